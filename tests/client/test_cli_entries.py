"""Warnings through the real CLI against a live server (both engines)."""

from pathlib import Path

from tests.client.test_cli_circles import Cli


def test_warning_story_through_the_cli(live_server: str, tmp_path: Path) -> None:
    c = Cli(live_server, tmp_path)
    fps = {who: c.json(who, "register", who)["fingerprint"] for who in ("alice", "bob")}
    cid = c.json("alice", "circle", "create", "Film crews Berlin")["circle_id"]
    c.json("bob", "join", c.json("alice", "invite", "create", cid)["invite"])
    c.json("alice", "member", "confirm", cid, "bob", "--fingerprint", fps["bob"])

    posted = c.json(
        "alice",
        "post",
        cid,
        "--subject",
        "Jan Novák",
        "--alias",
        "@jnovak",
        "--alias",
        "jan@example.org",
        "--category",
        "harassment",
        "--text",
        "Grabbed my arm after the shoot",
        "--expires-in",
        "730",
    )
    entry_id = posted["entry_id"]
    anon = c.json(
        "bob",
        "post",
        cid,
        "--subject",
        "JAN NOVAK",
        "--category",
        "stalking",
        "--text",
        "Followed me home",
        "--anonymous",
    )["entry_id"]

    first = c.json("bob", "read", cid)
    assert [e["entry_id"] for e in first] == [anon, entry_id]  # newest first
    named = first[1]
    assert {k: named[k] for k in ("subject", "aliases", "categories", "text", "author")} == {
        "subject": "Jan Novák",
        "aliases": ["@jnovak", "jan@example.org"],
        "categories": ["harassment"],
        "text": "Grabbed my arm after the shoot",
        "author": "alice",
    }
    assert first[0]["author"] is None
    assert {"corroborations", "created_at", "expires_at"} <= set(named)
    assert c.json("bob", "read", cid) == []  # the local cursor: nothing new

    c.json("bob", "corroborate", cid, entry_id, "--text", "Same thing happened to me in 2023")
    checked = c.json("alice", "check", cid, " jan  novak ")
    assert {m["entry_id"] for m in checked["matches"]} == {entry_id, anon}
    assert checked["distinct_members"] == 2
    shown = c.json("alice", "show", cid, entry_id)
    assert shown["corroborations"] == 1
    assert shown["corroboration_texts"][0]["text"] == "Same thing happened to me in 2023"

    refused = c.run("alice", "retract", cid, anon, "--json")
    assert refused.exit_code == 1 and "not_author" in refused.output
    assert c.json("bob", "retract", cid, anon)["status"] == "retracted"
    assert [m["entry_id"] for m in c.json("alice", "check", cid, "jan novak")["matches"]] == [
        entry_id
    ]

    human = c.run("bob", "read", cid, "--all")
    assert human.exit_code == 0 and "Jan Novák" in human.output
