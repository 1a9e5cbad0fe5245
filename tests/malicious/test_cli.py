"""The malicious server against the real CLI: its exact error code, and nothing saved.

The CLI talks to a live server through ``malicious_server`` (tests/client/test_cli_moderation.py),
with the rules of conftest.py. Each test checks the code the CLI prints with ``--json`` and
that the files the device keeps (profile, trust pins, read cursors, audit pins) are byte for
byte what they were before the attack.
"""

import json
from pathlib import Path
from typing import Any

import httpx

from tests.client.test_cli_circles import Cli
from tests.client.test_cli_moderation import _post, _setup, _token, malicious_server
from tests.malicious.conftest import on

ENVELOPE = ("author_key", "commitment", "nonce", "ciphertext", "signature")
KEPT = ("profile.json", "trust.json", "cursors.json", "audit.json")


def _kept(c: Cli, who: str) -> dict[str, bytes | None]:
    home = c.root / who
    return {name: (home / name).read_bytes() if (home / name).exists() else None for name in KEPT}


def _refused(c: Cli, who: str, code: str, *args: str) -> None:
    """The command fails with exactly ``code`` (exit 2 and ``ok: false`` for audit verify)."""
    result = c.run(who, *args, "--json")
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    if args[:2] == ("audit", "verify"):
        assert (result.exit_code, answer["ok"], answer["error"]) == (2, False, code), answer
    else:
        assert (result.exit_code, answer["error"]["code"]) == (1, code), answer


def _as(live_server: str, c: Cli, who: str, path: str) -> Any:
    headers = {"Authorization": f"Bearer {_token(c.root, who)}"}
    return httpx.get(f"{live_server}{path}", headers=headers).json()


def test_cli_login_with_weak_kdf_parameters(live_server: str, tmp_path: Path) -> None:
    c = Cli(live_server, tmp_path)
    c.json("alice", "register", "alice")
    before = _kept(c, "alice")
    with malicious_server(on("GET", "/v1/auth/params", lambda kdf, _: kdf | {"opslimit": 1})):
        _refused(c, "alice", "weak_kdf_params", "login", "alice")
    assert _kept(c, "alice") == before


def _alice_and_carol(live_server: str, tmp_path: Path) -> tuple[Cli, dict[str, Any]]:
    """alice and carol registered on their devices; carol's account as the server shows it."""
    c = Cli(live_server, tmp_path)
    c.json("alice", "register", "alice")
    c.json("carol", "register", "carol")
    return c, _as(live_server, c, "carol", "/v1/me")


def test_cli_login_with_another_users_key_bundle(live_server: str, tmp_path: Path) -> None:
    c, carol = _alice_and_carol(live_server, tmp_path)
    before = _kept(c, "alice")
    forge = on("POST", "/v1/auth/login", lambda s, _: s | {"user": carol | {"username": "alice"}})
    with malicious_server(forge):
        _refused(c, "alice", "bad_key_bundle", "login", "alice")
    assert _kept(c, "alice") == before


def test_cli_whoami_with_another_users_keys(live_server: str, tmp_path: Path) -> None:
    c, carol = _alice_and_carol(live_server, tmp_path)
    before = _kept(c, "alice")
    with malicious_server(on("GET", "/v1/me", lambda me, _: me | {"identity": carol["identity"]})):
        _refused(c, "alice", "identity_changed", "whoami")
    assert _kept(c, "alice") == before


def test_cli_read_with_another_members_wrap(live_server: str, tmp_path: Path) -> None:
    c = Cli(live_server, tmp_path)
    cid, _ = _setup(c)
    c.json("bob", "read", cid)
    keys = f"/v1/circles/{cid}/keys"
    carols = _as(live_server, c, "carol", keys)[-1]["wrap"]
    before = _kept(c, "bob")
    with malicious_server(on("GET", keys, lambda rows, _: rows[-1].update(wrap=carols))):
        _refused(c, "bob", "decryption_failed", "read", cid)
    assert _kept(c, "bob") == before


def test_cli_read_with_envelopes_swapped_between_two_entries(
    live_server: str, tmp_path: Path
) -> None:
    c = Cli(live_server, tmp_path)
    cid, _ = _setup(c)
    _post(c, cid)
    c.json("bob", "read", cid)  # saves bob's cursor
    first, second = _post(c, cid), _post(c, cid)
    before = _kept(c, "bob")

    def swap(page: dict[str, Any], _: httpx.Request) -> None:
        rows = {row["entry_id"].replace("-", ""): row for row in page["entries"]}
        a, b = rows[first.replace("-", "")], rows[second.replace("-", "")]
        for field in ENVELOPE:
            a[field], b[field] = b[field], a[field]

    with malicious_server(on("GET", f"/v1/circles/{cid}/entries", swap)):
        _refused(c, "bob", "bad_signature", "read", cid)
    assert _kept(c, "bob") == before
    assert len(c.json("bob", "read", cid)) == 2  # the honest server's answer: both, as new


def test_cli_audit_verify_with_two_records_swapped(live_server: str, tmp_path: Path) -> None:
    c = Cli(live_server, tmp_path)
    cid, _ = _setup(c)
    assert c.json("bob", "audit", "verify", cid)["ok"] is True
    before = _kept(c, "bob")

    def swap(rows: list[dict[str, Any]], _: httpx.Request) -> None:
        rows[3], rows[4] = rows[4], rows[3]

    # The records swapped are ones bob already verified: an incremental verify never reads
    # them again (docs/protocol.md), a full one does.
    with malicious_server(on("GET", f"/v1/circles/{cid}/audit/records", swap)):
        _refused(c, "bob", "reordered", "audit", "verify", cid, "--full")
    assert _kept(c, "bob") == before
