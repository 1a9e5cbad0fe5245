"""Sealed warnings through the real CLI against a live server (both engines): seal, list,
the match an admin opens, withdraw, publish, and the settings only admins change."""

from pathlib import Path

from tests.client.test_cli_circles import Cli

TEXT = "MARKER-sealed-text-3c9e: he followed me to the hotel"


def _setup(c: Cli) -> str:
    fps = {who: c.json(who, "register", who)["fingerprint"] for who in ("alice", "bob", "carol")}
    cid: str = c.json("alice", "circle", "create", "Film crews Berlin")["circle_id"]
    for who in ("bob", "carol"):
        c.json(who, "join", c.json("alice", "invite", "create", cid)["invite"])
        c.json("alice", "member", "confirm", cid, who, "--fingerprint", fps[who])
    return cid


def _seal(c: Cli, who: str, cid: str, subject: str, text: str = TEXT) -> dict[str, str]:
    result: dict[str, str] = c.json(
        who, "seal", cid, "--subject", subject, "--category", "harassment", "--text", text
    )
    return result


def test_sealed_story_through_the_cli(live_server: str, tmp_path: Path) -> None:
    c = Cli(live_server, tmp_path)
    cid = _setup(c)
    refused = c.run(
        "bob", "seal", cid, "--subject", "x", "--category", "other", "--text", "t", "--json"
    )
    assert refused.exit_code == 1 and "sealed_not_set_up" in refused.output
    member = c.run("bob", "sealed", "settings", cid, "--k", "3", "--json")
    assert member.exit_code == 1 and "not_a_moderator" in member.output
    assert c.json("alice", "sealed", "settings", cid)["k"] == 2

    withdrawn = _seal(c, "bob", cid, "Petra Schmidt")
    assert c.json("bob", "sealed", "withdraw", cid, withdrawn["filing_id"])["status"] == (
        "withdrawn"
    )
    first = _seal(c, "bob", cid, "Jan Novák")
    assert first["status"] == "open"
    assert c.json("alice", "moderation", "matches", cid) == []
    second = _seal(c, "carol", cid, "novak jan", text="same, in Leipzig")
    assert second["status"] == "matched"

    [match] = c.json("alice", "moderation", "matches", cid)
    assert match["filers"] == ["bob", "carol"]
    assert {w["text"] for w in match["warnings"]} == {TEXT, "same, in Leipzig"}
    not_admin = c.run("bob", "moderation", "matches", cid, "--json")
    assert not_admin.exit_code == 1 and "not_a_moderator" in not_admin.output

    own = {row["filing_id"]: row for row in c.json("bob", "sealed", "list", cid)}
    assert own[first["filing_id"]]["status"] == "matched"
    assert own[withdrawn["filing_id"]]["status"] == "withdrawn"
    human = c.run("bob", "sealed", "list", cid)
    assert "MATCHED" in human.output

    entry = c.json("bob", "sealed", "publish", cid, first["filing_id"], "--anonymous")
    shown = c.json("carol", "show", cid, entry["entry_id"])
    assert shown["text"] == TEXT and shown["author"] is None


def test_admins_see_who_evaluated_names_and_members_do_not(
    live_server: str, tmp_path: Path
) -> None:
    c = Cli(live_server, tmp_path)
    cid = _setup(c)
    c.json("alice", "sealed", "settings", cid)
    _seal(c, "bob", cid, "Jan Novák")  # two exact forms
    _seal(c, "bob", cid, "Petra Schmidt")
    _seal(c, "carol", cid, "Max", text="x")
    rows = c.json("alice", "moderation", "probes", cid)
    assert [(r["user"], r["forms"]) for r in rows] == [("bob", 2), ("bob", 2), ("carol", 2)]
    assert all(r["at"] and isinstance(r["seq"], int) for r in rows)
    table = c.run("alice", "moderation", "probes", cid)
    assert table.exit_code == 0
    # User text is shown isolated (U+2068 … U+2069), as everywhere in the CLI.
    assert "\u2068bob\u2069: 2 evaluation(s), 4 form(s)" in table.output
    assert "\u2068carol\u2069: 1 evaluation(s), 2 form(s)" in table.output
    member = c.run("bob", "moderation", "probes", cid, "--json")
    assert member.exit_code == 1 and "not_a_moderator" in member.output
