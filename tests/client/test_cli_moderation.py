"""Moderation and the audit log through the real CLI against a live server (both engines)."""

import base64
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.audit import signing
from app.client.cli import context as cli_module
from app.crypto import b64encode
from app.crypto.circles import event_hash
from app.settings import Settings
from tests.client.test_cli_circles import Cli

NOTE = "MARKER-report-note-5b1e"
NAME = "Jan Novák"
REQUEST_TEXT = "MARKER-takedown-text-77c2: this is about me and it is false"
REASON = "MARKER-decision-reason-0f3a"
RESPONSE = "MARKER-response-91d0: we removed the warning"


def _setup(c: Cli) -> tuple[str, dict[str, str]]:
    fps = {who: c.json(who, "register", who)["fingerprint"] for who in ("alice", "bob", "carol")}
    cid = c.json("alice", "circle", "create", "Film crews Berlin")["circle_id"]
    for who in ("bob", "carol"):
        c.json(who, "join", c.json("alice", "invite", "create", cid)["invite"])
        c.json("alice", "member", "confirm", cid, who, "--fingerprint", fps[who])
    # Carol becomes an admin: alice's client renews the moderation key for alice and carol.
    c.json("alice", "member", "promote", cid, "carol")
    return cid, fps


def _post(c: Cli, cid: str, who: str = "alice") -> str:
    entry_id: str = c.json(
        who,
        "post",
        cid,
        "--subject",
        NAME,
        "--category",
        "harassment",
        "--text",
        "Grabbed my arm after the shoot",
    )["entry_id"]
    return entry_id


def test_moderation_story_through_the_cli(live_server: str, tmp_path: Path) -> None:
    c = Cli(live_server, tmp_path)
    cid, _ = _setup(c)
    entry_id = _post(c, cid)
    before = c.json("bob", "show", cid, entry_id)

    # A member reports; a second report of the same entry is refused.
    case_id = c.json("bob", "report", cid, entry_id, "--reason", "false", "--note", NOTE)["case_id"]
    again = c.run("bob", "report", cid, entry_id, "--reason", "other", "--json")
    assert again.exit_code == 1 and "already_reported" in again.output

    # Only admins list cases; they see the note and, verified, what the entry said.
    refused = c.run("bob", "moderation", "list", cid, "--json")
    assert refused.exit_code == 1 and "not_a_moderator" in refused.output
    cases = c.json("carol", "moderation", "list", cid)
    assert len(cases) == 1
    case = cases[0]
    assert (case["case_id"], case["kind"], case["entry_id"], case["status"]) == (
        case_id,
        "report",
        entry_id,
        "open",
    )
    assert (case["reporter"], case["reason"], case["note"]) == ("bob", "false", NOTE)
    assert case["reporter_verified"] is True
    assert case["reported_content"] == {
        "subject": NAME,
        "text": "Grabbed my arm after the shoot",
        "verified": True,
        "check": "opened and signed (alice)",
        "anonymous": False,
    }

    # Escalation: the reveal convinces someone with no account and no circle key.
    reveal = c.json("carol", "moderation", "reveal", cid, case_id)
    path = tmp_path / "reveal.json"
    path.write_text(json.dumps(reveal))
    checked = c.json("operator", "check-reveal", str(path))
    assert checked["ok"] is True and checked["signed_by_author_key"] is True
    assert checked["content"]["text"] == "Grabbed my arm after the shoot"
    body = json.loads(base64.b64decode(reveal["body"]))
    body["text"] = "Something the author never wrote"
    forged = reveal | {"body": base64.b64encode(json.dumps(body).encode()).decode()}
    path.write_text(json.dumps(forged))
    refused_reveal = c.run("operator", "check-reveal", str(path), "--json")
    assert refused_reveal.exit_code == 1 and "reveal_mismatch" in refused_reveal.output

    c.json("bob", "corroborate", cid, entry_id, "--text", "Me too")
    assert [m["level"] for m in c.json("bob", "check", cid, "jan novak")["matches"]] == ["exact"]
    before = c.json("bob", "show", cid, entry_id)

    # Hide takes it out of feeds; its author sees the case and the outcome.
    hidden = c.json(
        "carol", "moderation", "decide", cid, case_id, "--action", "hide", "--reason", REASON
    )
    assert hidden["status"] == "hidden"
    read = {e["entry_id"]: e for e in c.json("bob", "read", cid, "--all")}
    assert read[entry_id]["subject"] is None and read[entry_id]["status"] == "hidden"
    by_author = c.json("alice", "show", cid, entry_id)
    assert by_author["subject"] == NAME
    assert by_author["moderation"] == [
        {"case_id": case_id, "kind": "report", "status": "hidden", "actions": ["hide"]}
    ]
    assert "moderation" not in c.json("bob", "show", cid, entry_id)  # the reporter learns nothing
    # Name checks do not match a hidden entry, not even on a device that had synced it.
    hidden_check = c.json("bob", "check", cid, "jan novak")
    assert hidden_check["matches"] == [] and hidden_check["counts"]["exact"] == 0

    # Restore returns the entry unchanged.
    restored = c.json(
        "alice", "moderation", "decide", cid, case_id, "--action", "restore", "--reason", "checked"
    )
    assert restored["status"] == "restored"
    after = c.json("bob", "show", cid, entry_id)
    assert {k: after[k] for k in before} == before
    closed = c.run(
        "carol",
        "moderation",
        "decide",
        cid,
        case_id,
        "--action",
        "remove",
        "--reason",
        "x",
        "--json",
    )
    assert closed.exit_code == 1 and "decision_not_allowed" in closed.output

    # A takedown request from someone without an account, through the circle's link.
    link = c.json("alice", "circle", "takedown-link", cid)["link"]
    assert link.startswith(f"{live_server}/takedown#bctakedown1.{cid.replace('-', '')}.")
    filed = c.json(
        "jan",
        "takedown",
        "request",
        link,
        "--name",
        NAME,
        "--contact",
        "jan@example.org",
        "--text",
        REQUEST_TEXT,
    )
    receipt = filed["receipt"]
    assert c.json("jan", "takedown", "status", receipt) == {"status": "open", "response": None}
    takedown = next(
        x for x in c.json("carol", "moderation", "list", cid) if x["kind"] == "takedown"
    )
    assert (takedown["name"], takedown["text"], takedown["contact"]) == (
        NAME,
        REQUEST_TEXT,
        "jan@example.org",
    )
    assert takedown["entry_id"] is None
    assert [x["entry_id"] for x in takedown["candidates"]] == [entry_id]  # "JAN NOVAK" matches too

    needs_entry = c.run(
        "carol",
        "moderation",
        "decide",
        cid,
        takedown["case_id"],
        "--action",
        "remove",
        "--reason",
        REASON,
        "--json",
    )
    assert needs_entry.exit_code == 1 and "bad_decision" in needs_entry.output
    removed = c.json(
        "carol",
        "moderation",
        "decide",
        cid,
        takedown["case_id"],
        "--action",
        "remove",
        "--entry",
        entry_id,
        "--reason",
        REASON,
        "--response",
        RESPONSE,
    )
    assert removed == {
        "case_id": takedown["case_id"],
        "action": "remove",
        "entry_id": entry_id,
        "status": "removed",
    }
    assert c.json("jan", "takedown", "status", receipt) == {
        "status": "removed",
        "response": RESPONSE,
    }
    tomb = c.json("bob", "show", cid, entry_id)
    assert tomb["status"] == "removed" and tomb["subject"] is None and tomb["text"] is None

    # The audit log: members see kinds, times and ids; admins also read the reasons.
    member_view = c.json("bob", "audit", "show", cid)
    kinds = [r["kind"] for r in member_view]
    for kind in (
        "circle_created",
        "moderation_key_rotated",
        "report_filed",
        "case_decided",
        "takedown_filed",
    ):
        assert kind in kinds
    assert REASON not in json.dumps(member_view) and NOTE not in json.dumps(member_view)
    reported = next(r for r in member_view if r["kind"] == "report_filed")
    assert reported["actor"] is None and reported["details"]["entry_id"] == entry_id
    admin_view = c.json("carol", "audit", "show", cid)
    assert REASON in [r["details"].get("reason") for r in admin_view]

    for who in ("bob", "carol"):
        verified = c.json(who, "audit", "verify", cid)
        assert verified["ok"] is True and verified["tree_size"] == len(member_view)
        assert len(verified["root"]) == 64
    human = c.run("bob", "audit", "verify", cid)
    assert human.exit_code == 0 and "audit log verified" in human.output


def _verify_fails(c: Cli, cid: str, code: str, *options: str) -> str:
    result = c.run("bob", "audit", "verify", cid, "--json", *options)
    assert result.exit_code == 2, result.output
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["ok"] is False and answer["error"] == code, answer
    return str(answer["message"])


@contextmanager
def malicious_server(
    rewrite: Callable[[httpx.Request, httpx.Response], httpx.Response | None],
) -> Iterator[None]:
    """The CLI talks to the real server through a proxy that may rewrite answers:
    ``rewrite(request, real_answer)`` returns a forged answer, or None to pass it on."""

    def factory(url: str) -> httpx.Client:
        def handler(request: httpx.Request) -> httpx.Response:
            with httpx.Client() as real:
                answer = real.send(
                    httpx.Request(
                        request.method,
                        request.url,
                        headers=request.headers,
                        content=request.content,
                    )
                )
            forged = rewrite(request, answer)
            if forged is not None:
                return forged
            return httpx.Response(
                answer.status_code, content=answer.content, headers=answer.headers
            )

        return httpx.Client(transport=httpx.MockTransport(handler))

    cli_module.state.http_factory = factory
    try:
        yield
    finally:
        cli_module.state.http_factory = None


def _rows(engine: Engine, cid: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT seq, body, record_hash, leaf_hash, created_at FROM membership_events "
                    "WHERE circle_id = :c ORDER BY seq"
                ),
                {"c": _db_id(engine, cid)},
            )
        )


def _db_id(engine: Engine, cid: str) -> Any:
    return str(uuid.UUID(cid)) if engine.dialect.name == "postgresql" else uuid.UUID(cid).hex


def _set_body(engine: Engine, cid: str, seq: int, body: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE membership_events SET body = :b WHERE circle_id = :c AND seq = :s"),
            {"b": body, "c": _db_id(engine, cid), "s": seq},
        )


def test_audit_verify_catches_tampering(live_server: str, tmp_path: Path, engine: Engine) -> None:
    c = Cli(live_server, tmp_path)
    cid, _ = _setup(c)
    entry_id = _post(c, cid)
    c.json("bob", "report", cid, entry_id, "--reason", "doxxing", "--note", NOTE)
    first = c.json("bob", "audit", "verify", cid)  # pins this head and these leaves
    rows = _rows(engine, cid)
    assert first["tree_size"] == len(rows) >= 8

    # An incremental verify fetches only what is new since the pin; --full fetches every
    # record again and checks the pinned ones against the pinned root.
    # A changed record (its stored hashes left alone) is named.
    target = rows[3]
    _set_body(engine, cid, target.seq, target.body.replace('"v":1', '"v":1 ', 1))
    assert "record 3" in _verify_fails(c, cid, "changed_record", "--full")
    # Even with its stored hashes rewritten to match, the pinned root shows it.
    forged_body = target.body.replace('"at":"', '"at":"1', 1)
    assert forged_body != target.body
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE membership_events SET body = :b, record_hash = :h, leaf_hash = :l "
                "WHERE circle_id = :c AND seq = :s"
            ),
            {
                "b": forged_body,
                "h": event_hash(forged_body.encode()),
                "l": hashlib.sha256(b"\x00" + forged_body.encode()).digest(),
                "c": _db_id(engine, cid),
                "s": target.seq,
            },
        )
    assert "changed since this device verified them" in _verify_fails(
        c, cid, "changed_record", "--full"
    )
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE membership_events SET body = :b, record_hash = :h, leaf_hash = :l "
                "WHERE circle_id = :c AND seq = :s"
            ),
            {
                "b": target.body,
                "h": target.record_hash,
                "l": target.leaf_hash,
                "c": _db_id(engine, cid),
                "s": target.seq,
            },
        )
    assert c.json("bob", "audit", "verify", cid, "--full")["ok"] is True

    # Reordering two records.
    a, b = rows[4], rows[5]
    _set_body(engine, cid, a.seq, b.body)
    _set_body(engine, cid, b.seq, a.body)
    _verify_fails(c, cid, "changed_record", "--full")
    _set_body(engine, cid, a.seq, a.body)
    _set_body(engine, cid, b.seq, b.body)
    assert c.json("bob", "audit", "verify", cid, "--full")["ok"] is True

    # Deleting a record in the middle.
    middle = rows[2]
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM membership_events WHERE circle_id = :c AND seq = :s"),
            {"c": _db_id(engine, cid), "s": middle.seq},
        )
    assert "record 2" in _verify_fails(c, cid, "missing_record", "--full")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO membership_events (circle_id, seq, body, record_hash, leaf_hash, "
                "created_at) VALUES (:c, :s, :b, :h, :l, :t)"
            ),
            {
                "c": _db_id(engine, cid),
                "s": middle.seq,
                "b": middle.body,
                "h": middle.record_hash,
                "l": middle.leaf_hash,
                "t": middle.created_at,
            },
        )
    assert c.json("bob", "audit", "verify", cid, "--full")["ok"] is True

    # Dropping the newest records (the server now signs a smaller tree): a rollback.
    c.json("bob", "report", cid, _post(c, cid, "carol"), "--reason", "other")
    assert c.json("bob", "audit", "verify", cid)["ok"] is True
    newest = _rows(engine, cid)
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM membership_events WHERE circle_id = :c AND seq >= :s"),
            {"c": _db_id(engine, cid), "s": len(rows)},
        )
    assert "verified" in _verify_fails(c, cid, "rolled_back")
    assert len(newest) > len(rows)


def test_audit_verify_refuses_an_older_tree_head(live_server: str, tmp_path: Path) -> None:
    c = Cli(live_server, tmp_path)
    cid, _ = _setup(c)
    old_head = httpx.get(
        f"{live_server}/v1/circles/{cid}/audit/head",
        headers={"Authorization": f"Bearer {_token(tmp_path, 'bob')}"},
    ).json()
    c.json("bob", "report", cid, _post(c, cid), "--reason", "false")
    assert c.json("bob", "audit", "verify", cid)["ok"] is True

    def replay_old_head(request: httpx.Request, _: httpx.Response) -> httpx.Response | None:
        if request.url.path.endswith("/audit/head"):
            return httpx.Response(200, json=old_head)
        return None

    with malicious_server(replay_old_head):
        message = _verify_fails(c, cid, "rolled_back")
    assert str(old_head_size(old_head)) in message


def old_head_size(head: dict[str, Any]) -> int:
    return int(json.loads(head["tree_head"])["size"])


def _token(root: Path, who: str) -> str:
    for path in (root / who).rglob("*.json"):
        data = json.loads(path.read_text())
        if isinstance(data, dict) and "token" in data:
            return str(data["token"])
    raise AssertionError("no profile token")


def test_tree_head_key_rotation_is_followed_only_when_announced(
    live_server: str, tmp_path: Path, engine: Engine, settings: Settings
) -> None:
    c = Cli(live_server, tmp_path)
    cid, _ = _setup(c)
    assert c.json("bob", "audit", "verify", cid)["ok"] is True  # pins key 1

    with Session(engine, expire_on_commit=False) as session, session.begin():
        announced = signing.rotate(session, settings, notice=timedelta(0))
    assert c.json("bob", "audit", "verify", cid)["ok"] is True  # key 1 signed key 2's succession
    pins = json.loads((tmp_path / "bob" / "audit.json").read_text())
    assert pins["server_keys"][live_server] == b64encode(announced.public_key)

    # A key the pinned one never announced (a swapped or forged succession) is refused.
    with Session(engine, expire_on_commit=False) as session, session.begin():
        unannounced = signing.rotate(session, settings, notice=timedelta(0))
        unannounced.succession_signature = bytes(64)
    assert "never announced" in _verify_fails(c, cid, "unknown_server_key")


def test_moderation_key_follows_the_admins(live_server: str, tmp_path: Path) -> None:
    c = Cli(live_server, tmp_path)
    cid, _ = _setup(c)
    entry_id = _post(c, cid)
    first = c.json("bob", "report", cid, entry_id, "--reason", "false", "--note", NOTE)["case_id"]
    generations = [
        r["details"]["generation"]
        for r in c.json("bob", "audit", "show", cid)
        if r["kind"] == "moderation_key_rotated"
    ]
    assert generations == [0, 1]  # made at create, renewed when carol became an admin

    # Carol is demoted: alice's client makes generation 2 for alice alone.
    c.json("alice", "member", "demote", cid, "carol")
    refused = c.run("carol", "moderation", "list", cid, "--json")
    assert refused.exit_code == 1 and "not_a_moderator" in refused.output
    second = c.json("bob", "report", cid, _post(c, cid, "carol"), "--reason", "other")["case_id"]
    cases = {x["case_id"]: x for x in c.json("alice", "moderation", "list", cid)}
    assert cases[first]["note"] == NOTE  # an older generation, opened through the chain
    assert cases[second]["reason"] == "other"
    generations = [
        r["details"]["generation"]
        for r in c.json("bob", "audit", "show", cid)
        if r["kind"] == "moderation_key_rotated"
    ]
    assert generations == [0, 1, 2]

    # A server that shows only generation 0 (made for alice alone, as today, but before
    # carol held it and could keep it): the reporter's client calls it stale.
    def first_generation_only(
        request: httpx.Request, answer: httpx.Response
    ) -> httpx.Response | None:
        if request.method == "GET" and request.url.path.endswith("/moderation/keys"):
            return httpx.Response(200, json=answer.json()[:1])
        return None

    entry_id = _post(c, cid)
    with malicious_server(first_generation_only):
        stale = c.run("bob", "report", cid, entry_id, "--reason", "false", "--json")
    assert stale.exit_code == 1 and "moderation_key_stale" in stale.output


def test_audit_verify_refuses_a_bad_consistency_proof(live_server: str, tmp_path: Path) -> None:
    c = Cli(live_server, tmp_path)
    cid, _ = _setup(c)
    assert c.json("bob", "audit", "verify", cid)["ok"] is True
    c.json("bob", "report", cid, _post(c, cid), "--reason", "false")

    def bad_proof(request: httpx.Request, answer: httpx.Response) -> httpx.Response | None:
        if request.url.path.endswith("/audit/consistency"):
            proof = answer.json()
            proof["proof"] = [b64encode(bytes(32)) for _ in proof["proof"]] or [
                b64encode(bytes(32))
            ]
            return httpx.Response(200, json=proof)
        return None

    with malicious_server(bad_proof):
        _verify_fails(c, cid, "forked")
    assert c.json("bob", "audit", "verify", cid)["ok"] is True  # nothing was pinned meanwhile


def test_a_flood_of_takedown_requests_is_dismissed_in_one_command(
    live_server: str, tmp_path: Path
) -> None:
    """Each dismissal is still a decision signed by the admin, in the audit log."""
    c = Cli(live_server, tmp_path)
    cid, _ = _setup(c)
    link = c.json("alice", "circle", "takedown-link", cid)["link"]
    receipts = [
        c.json(f"junk{n}", "takedown", "request", link, "--name", "x", "--text", f"junk {n}")[
            "receipt"
        ]
        for n in range(4)
    ]
    long = c.run("jan", "takedown", "request", link, "--name", "x", "--text", "x" * 4000, "--json")
    assert long.exit_code == 1 and "bytes too long" in long.output and "bad_takedown" in long.output
    refused = c.run("bob", "moderation", "dismiss", cid, "--all-open-takedowns", "--reason", "r")
    assert refused.exit_code == 1
    cases = c.json("carol", "moderation", "list", cid)
    first = next(case for case in cases if case["kind"] == "takedown")
    one = c.json("carol", "moderation", "dismiss", cid, first["case_id"], "--reason", REASON)
    assert one == {"dismissed": [first["case_id"]], "more": False}
    rest = c.json("carol", "moderation", "dismiss", cid, "--all-open-takedowns", "--reason", REASON)
    assert len(rest["dismissed"]) == 3 and first["case_id"] not in rest["dismissed"]
    for receipt in receipts:
        assert c.json("jan", "takedown", "status", receipt)["status"] == "dismissed"
    decided = [r for r in c.json("carol", "audit", "show", cid) if r["kind"] == "case_decided"]
    assert len(decided) == 4
    assert {r["actor"] for r in decided} == {"carol"}
    assert {r["details"]["reason"] for r in decided} == {REASON}
    assert c.json("bob", "audit", "verify", cid)["ok"] is True
    nothing = c.json("carol", "moderation", "dismiss", cid, "--all-open-takedowns", "--reason", "r")
    assert nothing == {"dismissed": [], "more": False}
    unnamed = c.run("carol", "moderation", "dismiss", cid, "--reason", "r")
    assert unnamed.exit_code == 1 and "name the cases" in unnamed.output


def test_an_admin_reading_a_circle_without_a_moderation_key_makes_one(
    live_server: str, tmp_path: Path, engine: Engine
) -> None:
    """Circles made by older clients have no moderation key, so nobody can report; the next
    admin to read the circle makes one. A plain member reading it changes nothing."""
    c = Cli(live_server, tmp_path)
    cid, _ = _setup(c)
    entry_id = _post(c, cid)
    with engine.begin() as conn:  # as an older client left it
        for table in ("moderation_wraps", "moderation_keys"):
            conn.execute(
                text(f"DELETE FROM {table} WHERE circle_id = :c"), {"c": _db_id(engine, cid)}
            )
    refused = c.run("bob", "report", cid, entry_id, "--reason", "false", "--json")
    assert refused.exit_code == 1 and "moderation_key_missing" in refused.output
    assert c.run("bob", "read", cid).exit_code == 0
    refused = c.run("bob", "report", cid, entry_id, "--reason", "false", "--json")
    assert "moderation_key_missing" in refused.output
    opened = c.run("carol", "read", cid)
    assert opened.exit_code == 0 and "one was made" in opened.output
    assert c.json("bob", "report", cid, entry_id, "--reason", "false")["case_id"]
    assert "one was made" not in c.run("carol", "read", cid).output
