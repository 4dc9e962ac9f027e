"""``solreg witness`` against the stub registry (CLI in a subprocess): a head that does not extend the last
one cosigned, or is not signed by the pinned log key, is never cosigned; a good one is, and is sent."""

from __future__ import annotations

import json

import pytest

from registry.spec import note
from registry.spec.tlog import TreeHashes, leaf_hash

LOG = note.Signer.generate("registry.example.org/log")
ORIGIN = LOG.name
COSIGN = "/api/v1/log/cosignatures"
WITNESS_NAME = "witness.gg.go.kr/w1"


def tree(n: int, salt: str = "") -> TreeHashes:
    return TreeHashes(leaf_hash(f'{{"i":{i}{salt}}}'.encode()) for i in range(n))


def head(hashes: TreeHashes, size: int | None = None, signer: note.Signer = LOG) -> str:
    size = hashes.size if size is None else size
    return note.sign(note.Checkpoint(ORIGIN, size, hashes.root(size)).text(), signer).encode()


def serve(stub, signed: str, *, proof: list[bytes] = (), answer=(201, {"cosignatures": [
        {"witness": "경기도", "tree_size": 0, "signed_at": "2026-05-28T20:26:40+00:00", "new": True}]})) -> None:
    stub.on("GET", "/api/v1/log/key", (200, LOG.verifier.encode().encode()))
    stub.on("GET", "/api/v1/log/checkpoint", (200, signed.encode()))
    stub.on("GET", "/api/v1/log/proof/consistency", (200, {"proof": [p.hex() for p in proof]}))
    stub.on("POST", COSIGN, answer)


@pytest.fixture
def witness(solreg, config_home):
    made = solreg("witness", "init", WITNESS_NAME)
    assert made.returncode == 0, made.stderr
    return note.Signer.parse((config_home / "solreg" / "witness" / "key").read_text())


def state(config_home) -> dict:
    return json.loads((config_home / "solreg" / "witness" / "logs" / "registry.example.org%2Flog").read_text())


def _fails(result, text: str) -> None:
    assert result.returncode == 1, result.stdout
    assert text in result.stderr and result.stderr.startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr


def test_without_a_witness_key_nothing_is_fetched(solreg, stub):
    serve(stub, head(tree(2)))
    result = solreg("witness", "cosign", stub.url, "--log-key", LOG.verifier.encode())
    _fails(result, "this computer has no witness key")
    assert "solreg witness init NAME" in result.stderr and stub.requests == []


def test_a_second_witness_key_is_not_made_over_the_first(solreg, witness):
    _fails(solreg("witness", "init", "other.example/w"), "a witness key exists already")
    assert solreg("witness", "key").stdout.strip() == witness.verifier.encode()


def test_the_log_key_is_never_taken_from_the_registry_itself(solreg, stub, witness):
    serve(stub, head(tree(2)))
    result = solreg("witness", "cosign", stub.url)
    _fails(result, "does not know the log registry.example.org/log yet: give its key with --log-key")
    assert stub.hits("POST", COSIGN) == []


def test_a_head_signed_by_another_key_is_not_cosigned(solreg, stub, witness):
    serve(stub, head(tree(2), signer=note.Signer.generate(ORIGIN)))
    _fails(solreg("witness", "cosign", stub.url, "--log-key", LOG.verifier.encode()), "does not verify with the log key")
    assert stub.hits("POST", COSIGN) == []


def test_a_head_that_does_not_extend_the_last_one_cosigned_is_not_cosigned(solreg, stub, witness, config_home):
    serve(stub, head(tree(3)))
    assert solreg("witness", "cosign", stub.url, "--log-key", LOG.verifier.encode()).returncode == 0
    before = state(config_home)

    forked = tree(5, salt=",\"fork\":1")  # same key, another history: its proof cannot lead to the old root
    serve(stub, head(forked), proof=forked.consistency_proof(3, 5))
    _fails(solreg("witness", "cosign", stub.url), "refusing to cosign registry.example.org/log")
    shrunk = tree(2)
    serve(stub, head(shrunk))
    result = solreg("witness", "cosign", stub.url)
    _fails(result, "shrank from 3 to 2 leaves")
    assert "keep the witness state file and this head as evidence" in result.stderr
    assert len(stub.hits("POST", COSIGN)) == 1 and state(config_home) == before


def test_a_log_key_other_than_the_pinned_one_is_refused(solreg, stub, witness):
    serve(stub, head(tree(2)))
    assert solreg("witness", "cosign", stub.url, "--log-key", LOG.verifier.encode()).returncode == 0
    other = note.Signer.generate(ORIGIN).verifier.encode()
    _fails(solreg("witness", "cosign", stub.url, "--log-key", other), "is not the one pinned for registry.example.org/log")


def test_a_good_head_is_cosigned_and_sent_then_the_next_one_after_its_proof(solreg, stub, witness, config_home):
    hashes = tree(5)
    serve(stub, head(hashes, 3))
    first = solreg("witness", "cosign", stub.url, "--log-key", LOG.verifier.encode())
    assert first.returncode == 0, first.stderr
    assert f"cosigned {ORIGIN} at 3 leaves (root {hashes.root(3).hex()}) as {WITNESS_NAME}" in first.stdout
    [sent] = stub.hits("POST", COSIGN)
    assert sent.headers["Content-Type"].startswith("text/plain")
    body = note.parse(sent.body.decode())
    assert note.open_checkpoint(sent.body.decode(), LOG.verifier, ORIGIN)[0].size == 3
    assert note.cosignature_time(body, witness.verifier) > 0 and len(body.signatures) == 2

    serve(stub, head(hashes), proof=hashes.consistency_proof(3, 5))
    second = solreg("witness", "cosign", stub.url)  # the pinned log key from now on
    assert second.returncode == 0, second.stderr
    assert stub.hits("GET", "/api/v1/log/proof/consistency")[0].path.endswith("old=3&new=5")
    assert note.Checkpoint.from_text(note.parse(state(config_home)["checkpoint"]).text).size == 5


def test_the_registrys_refusal_is_shown_in_one_line(solreg, stub, witness):
    serve(stub, head(tree(2)), answer=(403, {"errors": [{"code": "forbidden", "field": "checkpoint", "detail":
                                                         "witness.gg.go.kr/w1+0 is not the key of a witness"}]}))
    _fails(solreg("witness", "cosign", stub.url, "--log-key", LOG.verifier.encode()),
           "registry refused (403): checkpoint: witness.gg.go.kr/w1+0 is not the key of a witness")


def test_an_empty_log_is_not_cosigned(solreg, stub, witness):
    serve(stub, head(TreeHashes()))
    result = solreg("witness", "cosign", stub.url, "--log-key", LOG.verifier.encode())
    assert result.returncode == 0 and "nothing to cosign yet" in result.stdout
    assert stub.hits("POST", COSIGN) == []
