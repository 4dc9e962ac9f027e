"""``solreg witness``: a second party (a province, the ministry) checks a registry's log and cosigns its heads.

``init NAME`` makes the witness's key (a C2SP cosignature/v1 key, type 0x04); the registry's operator
registers its public half (``flask --app registry log witness add NAME KEY``). ``cosign URL`` fetches the
registry's signed head, checks it with the log key pinned for that log, checks that it extends the last
head this witness cosigned (with the registry's consistency proof), cosigns it and sends the cosignature
back; run it every few minutes (cron, a systemd timer). A head that does not extend the last one is never
cosigned: that is the split view or rewritten history a witness exists to catch.

State under the solreg config directory: ``witness/key`` (the private key, 0600) and, per log (by its
key's name), ``witness/logs/<name>``: the pinned log key and the last head cosigned, as JSON.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from publisher_cli.client import RegistryClient
    from registry.spec.note import Signer, Verifier

CHECKPOINT = "/api/v1/log/checkpoint"
FORK_HINT = ("do not cosign: keep the witness state file and this head as evidence, and tell the registry's "
             "operator and the other witnesses")
KEY_HINT = "get the log key from the registry's operator (`flask --app registry log key`), not from the registry"


@dataclass(frozen=True)
class Cosigned:
    log: str
    size: int
    root: str
    witness: str
    new: bool  # False: the registry held this very cosignature already


def witness_signer() -> Signer:
    from publisher_cli.config import witness_key_path
    from publisher_cli.errors import ConfigError
    from registry.spec.note import NoteError, Signer

    path = witness_key_path()
    if not path.exists():
        raise ConfigError("this computer has no witness key", hint="make one: `solreg witness init NAME`")
    try:
        return Signer.parse(path.read_text(encoding="ascii"))
    except (NoteError, UnicodeDecodeError) as exc:
        raise ConfigError(f"the witness key {path} is not usable: {exc}", hint=f"restore {path} from a backup") from None


def init_witness(name: str) -> Signer:
    from publisher_cli.config import witness_key_path, write_private_file
    from publisher_cli.errors import ConfigError
    from registry.spec.note import ALG_COSIGNATURE_V1, NoteError, Signer

    path = witness_key_path()
    if path.exists():
        raise ConfigError(f"a witness key exists already: {path}",
                          hint="`solreg witness key` prints it; a new key must be registered again")
    try:
        signer = Signer.generate(name, ALG_COSIGNATURE_V1)
    except NoteError as exc:
        raise ConfigError(str(exc), hint="name the witness like a URL without a scheme, e.g. witness.gg.go.kr/registry"
                          ) from None
    write_private_file(path, (signer.encode() + "\n").encode("ascii"))
    return signer


def _log_key(client: RegistryClient, given: str | None) -> tuple[Verifier, dict]:
    """The log key to check heads with (given, or pinned for the log the registry names) and the log's state."""
    from publisher_cli.config import witness_log_path
    from publisher_cli.errors import ConfigError, VerificationError
    from publisher_cli.transparency import served_key
    from registry.spec.note import NoteError, Verifier

    try:
        key = Verifier.parse(given or served_key(client))
    except NoteError as exc:
        raise ConfigError(f"the log key is not usable: {exc}", hint=KEY_HINT) from None
    if key.is_cosigner:
        raise ConfigError(f"{key.name}+{key.key_hash:08x} is a witness key, not a log key", hint=KEY_HINT)
    path = witness_log_path(key.name)
    try:
        state = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"the witness state {path} is not JSON: {exc}", hint=f"restore {path} from a backup") from None
    pinned = state.get("log_key")
    if pinned is None and given is None:
        raise ConfigError(f"this witness does not know the log {key.name} yet: give its key with --log-key",
                          hint=KEY_HINT)
    if pinned is not None and pinned != key.encode():
        where = "given" if given else "served by the registry"
        raise VerificationError(f"the log key {key.encode()} {where} is not the one pinned for {key.name} ({pinned})",
                                hint=f"if the log really changed its key, delete {path} and cosign with --log-key")
    return key, state


def cosign_head(url: str, given_key: str | None, *, now: float | None = None) -> Cosigned | None:
    """One round: fetch, check, cosign, send. None when the log is still empty (nothing to cosign)."""
    from publisher_cli.client import API, RegistryClient
    from publisher_cli.config import witness_log_path, write_private_file
    from publisher_cli.errors import RegistryAnswerError, VerificationError
    from publisher_cli.transparency import check_extends
    from registry.spec.note import Note, NoteError, cosign, open_checkpoint

    signer = witness_signer()
    client = RegistryClient(url)
    key, state = _log_key(client, given_key)
    served = client.text(CHECKPOINT)
    try:
        head, signed = open_checkpoint(served, key)
    except NoteError as exc:
        raise VerificationError(f"the registry's head does not verify with the log key {key.name}: {exc}",
                                hint=FORK_HINT) from None
    if head.size == 0:
        return None
    if "checkpoint" in state:
        try:
            seen = open_checkpoint(state["checkpoint"], key)[0]
            check_extends(client, seen, head)
        except (NoteError, VerificationError) as exc:
            raise VerificationError(f"refusing to cosign {key.name}: {exc}", hint=FORK_HINT) from None
    # Kept before sending: from now on this witness has seen this head, whatever the registry answers.
    write_private_file(witness_log_path(key.name), json.dumps({"log_key": key.encode(), "checkpoint": served},
                                                             ensure_ascii=False).encode("utf-8"))
    line = cosign(signed.text, signer, int(time.time() if now is None else now))
    own = tuple(s for s in signed.signatures if s.made_by(key))
    body = Note(signed.text, (*own, line)).encode().encode("utf-8")
    answer = client.json("POST", f"{API}/log/cosignatures", data=body,
                         headers={"Content-Type": "text/plain; charset=utf-8"})
    kept = answer.get("cosignatures")
    if not isinstance(kept, list) or not kept:
        raise RegistryAnswerError("the registry kept no cosignature", hint="is this witness registered with it?")
    return Cosigned(key.name, head.size, head.root.hex(), signer.name, any(k.get("new") for k in kept))


@click.group("witness")
def witness_group() -> None:
    """Witness a registry's transparency log: check its heads and cosign them."""


@witness_group.command("init")
@click.argument("name")
def witness_init_command(name: str) -> None:
    """Make this computer's witness key, named NAME (e.g. witness.gg.go.kr/registry)."""
    from publisher_cli.config import witness_key_path

    signer = init_witness(name)
    click.echo(f"witness key saved in {witness_key_path()} (mode 0600)")
    click.echo(f"public key: {signer.verifier.encode()}")
    click.echo("give it to the registry's operator: flask --app registry log witness add <your name> <public key>")


@witness_group.command("key")
def witness_key_command() -> None:
    """Print this witness's public key."""
    click.echo(witness_signer().verifier.encode())


@witness_group.command("cosign")
@click.argument("url")
@click.option("--log-key", metavar="KEY", help="The registry's log key, from its operator (needed the first time).")
def witness_cosign_command(url: str, log_key: str | None) -> None:
    """Fetch URL's signed head, check it extends the last one cosigned, cosign it and send the cosignature."""
    done = cosign_head(url, log_key)
    if done is None:
        click.echo("the log is empty: nothing to cosign yet")
        return
    what = "cosigned" if done.new else "already cosigned"
    click.echo(f"{what} {done.log} at {done.size} leaves (root {done.root}) as {done.witness}")


COMMANDS = [witness_group]
