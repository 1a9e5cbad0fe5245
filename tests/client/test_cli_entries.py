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
    first_anon = c.json(
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
    )
    anon = first_anon["entry_id"]
    # bob never opened the circle: his tokens were taken at the post, and the CLI says so.
    assert first_anon["tokens_taken_at_post"] is True

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
    checked = c.json("alice", "check", cid, " novak, jan ")
    assert {m["warning"]["entry_id"]: m["level"] for m in checked["matches"]} == {
        entry_id: "exact",
        anon: "exact",
    }
    assert checked["searched"] == {
        "circle_id": cid,
        "warnings": 2,
        "change_seq": checked["searched"]["change_seq"],
        "scope": "device",
    }
    assert "distinct_members" not in checked
    shown = c.json("alice", "show", cid, entry_id)
    assert shown["corroborations"] == 1
    assert shown["corroboration_texts"][0]["text"] == "Same thing happened to me in 2023"

    # Authors cannot corroborate their own warnings, named or anonymous (§24.1).
    for who, own in (("alice", entry_id), ("bob", anon)):
        mine = c.run(who, "corroborate", cid, own, "--text", "me too", "--json")
        assert mine.exit_code == 1 and "self_corroboration" in mine.output
    # A named post says, in one sentence, what it proves and to whom.
    named_post = c.run(
        "alice", "post", cid, "--subject", "Petra Nowak", "--category", "other", "--text", "x"
    )
    said_named = " ".join(named_post.output.split())
    assert named_post.exit_code == 0 and "any member can prove to anyone" in said_named
    assert c.json("alice", "retract", cid, said_named.split(": ")[1].split()[0])
    post_help = " ".join(c.run("alice", "post", "--help").output.split())
    assert "an anonymous warning carries no such proof" in post_help

    # The admins can unmask an anonymous warning (audited); a member cannot (§38.7).
    unmasked = c.json("alice", "moderation", "unmask", cid, anon)
    assert (unmasked["user"], unmasked["verified"]) == ("bob", True)
    denied = c.run("bob", "moderation", "unmask", cid, anon, "--json")
    assert denied.exit_code == 1 and "not_a_moderator" in denied.output

    refused = c.run("alice", "retract", cid, anon, "--json")
    assert refused.exit_code == 1 and "not_author" in refused.output
    assert c.json("bob", "retract", cid, anon)["status"] == "retracted"
    after = c.json("alice", "check", cid, "jan novak")["matches"]
    assert [m["warning"]["entry_id"] for m in after] == [entry_id]

    # Logging out leaves nothing on the device that can post as a member: the unspent
    # anonymous tokens go with the profile and the synced warnings (review finding 7).
    assert (tmp_path / "bob" / "tokens.json").exists()
    assert c.json("bob", "logout") == {"logged_out": True}
    assert not (tmp_path / "bob" / "tokens.json").exists()
    c.json("bob", "login", "bob")

    human = c.run("bob", "read", cid, "--all")
    assert human.exit_code == 0 and "Jan Novák" in human.output
    # The check says each match's level, and an empty one says what it checked.
    found = c.run("bob", "check", cid, "Nowak")
    said = " ".join(found.output.split())  # as read, whatever the terminal's width
    assert found.exit_code == 0 and "POSSIBLE (1)" in said and "It may well be someone" in said
    assert "EXACT" not in said and "PARTIAL" not in said
    shown = c.run("bob", "check", cid, "Petr Svoboda").output
    none = " ".join(shown.replace("\u2068", "").replace("\u2069", "").split())
    assert 'No match for "Petr Svoboda" among the 1 warning(s) this device holds' in none
    assert '("petr svoboda")' in none and "Not checked: nicknames" in none

    # Once bob has read the circle, his device holds tokens taken then: a post spends one.
    c.json("bob", "read", cid)
    later = c.json(
        "bob", "post", cid, "--subject", "Zdeněk Quill", "--category", "other", "--text", "y",
        "--anonymous",
    )  # fmt: skip
    assert later["tokens_taken_at_post"] is False
    # With none left on the device (logged out and in again), a person is told before posting.
    c.json("bob", "logout")
    c.json("bob", "login", "bob")
    told = c.run(
        "bob", "post", cid, "--subject", "Vít Quill", "--category", "other", "--text", "z",
        "--anonymous",
    )  # fmt: skip
    assert told.exit_code == 0
    assert "just before the post" in " ".join(told.stderr.split())
