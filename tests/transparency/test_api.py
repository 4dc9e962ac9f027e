"""The log's API: the head, the key, leaves and proofs that check out with registry.spec alone."""

from __future__ import annotations

import pytest

from registry.spec import note
from registry.spec.tlog import leaf_hash, verify_consistency, verify_inclusion


def _proof(body) -> list[bytes]:
    return [bytes.fromhex(h) for h in body["proof"]]


def test_a_client_checks_a_release_with_the_api_alone(client, publish):
    publish("1.0.0")
    publish("1.1.0")
    old = note.open_checkpoint(client.get("/api/v1/log/checkpoint").get_data(as_text=True),
                               note.Verifier.parse(client.get("/api/v1/log/key").get_data(as_text=True)))[0]
    publish("1.2.0")
    key = note.Verifier.parse(client.get("/api/v1/log/key").get_data(as_text=True))
    response = client.get("/api/v1/log/checkpoint")
    assert response.mimetype == "text/plain"
    head, _ = note.open_checkpoint(response.get_data(as_text=True), key, "solreg.test/log")
    assert head.size == 3

    release = client.get("/api/v1/solutions/parking-share/releases/1.1.0").json["release"]
    index = release["transparency"]["leaf_index"]
    leaf = client.get(f"/api/v1/log/leaves?start={index}&limit=1").json["leaves"][0]
    assert '"sha256":"' + release["sha256"] + '"' in leaf["data"]
    assert leaf_hash(leaf["data"].encode()).hex() == leaf["hash"]
    proof = client.get(f"/api/v1/log/proof/inclusion?index={index}&size={head.size}").json
    verify_inclusion(index, head.size, bytes.fromhex(leaf["hash"]), _proof(proof), head.root)
    by_hash = client.get(f"/api/v1/log/proof/inclusion?hash={leaf['hash']}").json
    assert by_hash["index"] == index and by_hash["proof"] == proof["proof"]

    consistency = client.get(f"/api/v1/log/proof/consistency?old={old.size}&new={head.size}").json
    verify_consistency(old.size, head.size, old.root, head.root, _proof(consistency))



def test_the_empty_log_has_a_signed_head(client):
    key = note.Verifier.parse(client.get("/api/v1/log/key").get_data(as_text=True))
    head, _ = note.open_checkpoint(client.get("/api/v1/log/checkpoint").get_data(as_text=True), key)
    assert head.size == 0
    assert client.get("/api/v1/log/leaves").json == {"start": 0, "size": 0, "leaves": []}


@pytest.mark.parametrize("query, field", [
    ("leaves?start=-1", "start"), ("leaves?limit=0", "limit"), ("leaves?limit=5000", "limit"),
    ("proof/inclusion?index=x", "index"), ("proof/inclusion?index=0&size=9", "size"),
    ("proof/inclusion?index=3&size=1", "index"), ("proof/inclusion?hash=zz", "hash"),
    ("proof/consistency?old=1", "new"), ("proof/consistency?old=2&new=1", "old"),
    ("proof/consistency?old=0&new=7", "new"),
])
def test_bad_parameters_are_4xx_json_naming_the_field(client, publish, query, field):
    publish("1.0.0")
    response = client.get(f"/api/v1/log/{query}")
    assert 400 <= response.status_code < 500
    assert response.json["errors"][0]["field"] == field, response.json


def test_an_unknown_leaf_hash_is_404(client, publish):
    publish("1.0.0")
    response = client.get("/api/v1/log/proof/inclusion?hash=" + "ab" * 32)
    assert response.status_code == 404 and response.json["errors"][0]["field"] == "hash"
