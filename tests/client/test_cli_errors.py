"""What the CLI says when something is wrong, and the ids people can type (issue 12,
items 3 and 5, and the smaller points of 8), through the real CLI against a live server."""

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from app.client.cli.ids import pick
from app.client.cli.main import app as cli
from app.client.errors import ProtocolError
from tests.client.test_cli_circles import Cli


def _error(result: object) -> dict[str, str]:
    """The --json error document of a failed run."""
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    error: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])["error"]  # type: ignore[attr-defined]
    assert result.stderr.startswith(f"error [{error['code']}] ")  # type: ignore[attr-defined]
    return error


def test_ids_by_prefix_and_name_and_errors_that_say_what_to_do(
    live_server: str, tmp_path: Path
) -> None:
    c = Cli(live_server, tmp_path)
    fps = {who: c.json(who, "register", who)["fingerprint"] for who in ("alice", "bob", "carol")}
    cid = c.json("alice", "circle", "create", "Film crews Berlin")["circle_id"]
    other = c.json("alice", "circle", "create", "Night shift")["circle_id"]

    # A wrong recovery code is called that, not a wrong passphrase.
    wrong_code = CliRunner().invoke(
        cli,
        ["recover", "alice", "--json"],
        env={
            "BACKCHANNEL_SERVER": live_server,
            "BACKCHANNEL_HOME": str(tmp_path / "spare"),
            "BACKCHANNEL_RECOVERY_CODE": "0000-0000-0000-0000-0000-0000-0000-0000",
            "BACKCHANNEL_NEW_PASSPHRASE": "a completely new passphrase here",
        },
    )
    recovery = _error(wrong_code)
    assert recovery["code"] == "invalid_credentials" and "recovery code" in recovery["message"]

    # A circle by a unique prefix of its id, or by its name in any case and spacing.
    prefix = cid.replace("-", "")[:6]
    invite = c.json("alice", "invite", "create", prefix)
    assert invite["invite_id"]
    invites = c.json("alice", "invite", "list", "  FILM   crews berlin ")
    assert [i["invite_id"] for i in invites] == [invite["invite_id"]]
    assert c.json("alice", "circle", "takedown-link", "night shift")["link"].count(
        other.replace("-", "")
    )
    unknown = _error(c.run("alice", "invite", "list", "Day shift", "--json"))
    assert unknown["code"] == "unknown_circle" and "circle list" in unknown["message"]

    # Joining: both fingerprints; joining twice says you are in, not "used up".
    joined = c.json("bob", "join", f"  <http://127.0.0.1/join#{invite['invite']}>\n")
    assert (joined["fingerprint"], joined["inviter_fingerprint"]) == (fps["bob"], fps["alice"])
    human = c.run("bob", "circle", "list")
    assert "waiting for an admin to confirm you" in " ".join(human.output.split())
    twice = _error(c.run("bob", "join", invite["invite"], "--json"))
    assert twice["code"] == "already_member"

    # A wrong fingerprint is refused without printing the right one.
    wrong = _error(
        c.run("alice", "member", "confirm", cid, "bob", "--fingerprint", fps["carol"], "--json")
    )
    assert wrong["code"] == "fingerprint_mismatch" and fps["bob"] not in wrong["message"]
    c.json("alice", "member", "confirm", cid, "bob", "--fingerprint", fps["bob"])
    demoted = _error(c.run("alice", "member", "demote", cid, "bob", "--json"))
    assert demoted == {
        "code": "role_unchanged",
        "message": "bob is a member already: there is no lower role "
        "(to take them out, use member remove)",
    }
    nobody = _error(c.run("alice", "member", "promote", cid, "carol", "--json"))
    assert nobody["code"] == "not_a_member"

    # Warnings by a prefix of their id; errors name the entry, not the circle.
    groping = _error(
        c.run(
            "alice",
            "post",
            cid,
            "--subject",
            "Jan",
            "--text",
            "t",
            "--category",
            "groping",
            "--json",
        )
    )
    assert groping["code"] == "bad_category" and "(got" not in groping["message"]
    assert groping["message"].startswith("unknown category 'groping': give one or more of")
    entry = c.json(
        "alice",
        "post",
        cid,
        "--subject",
        "Jan Novák",
        "--text",
        "t",
        "--category",
        "harassment",
        "--affiliation",
        "Studio Babelsberg",
    )["entry_id"]
    short = entry.replace("-", "")[:7]
    assert c.json("bob", "show", prefix, short)["entry_id"] == entry
    shown = c.run("bob", "show", cid, short)
    assert "Studio Babelsberg" in shown.output and entry.replace("-", "")[:8] in shown.output
    malformed = _error(c.run("bob", "show", cid, "not-an-id", "--json"))
    assert malformed["code"] == "bad_entry_id" and "read" in malformed["message"]
    assert _error(c.run("bob", "show", cid, "abcdef0", "--json"))["code"] == "unknown_entry"
    too_short = _error(c.run("bob", "show", cid, entry[:5], "--json"))
    assert too_short["code"] == "bad_entry_id"
    own = _error(c.run("alice", "corroborate", cid, short, "--text", "me too", "--json"))
    assert own["code"] == "self_corroboration"
    theirs = _error(c.run("bob", "retract", cid, short, "--json"))
    assert theirs["code"] == "not_author" and "report" in theirs["message"]

    # Cases by prefix; check-reveal reads what `moderation reveal` printed without --json.
    case = c.json("bob", "report", cid, short, "--reason", "false")["case_id"]
    revealed = c.run("alice", "moderation", "reveal", cid, case.replace("-", "")[:6])
    assert revealed.exit_code == 0
    path = tmp_path / "reveal.json"
    path.write_text(revealed.stdout)
    checked = c.run("operator", "check-reveal", str(path))
    assert checked.exit_code == 0 and "reveal verified" in checked.output
    assert "{'" not in checked.output  # not a Python dict
    assert c.json("operator", "check-reveal", str(path))["ok"] is True

    # A takedown link and a receipt work as their bare tokens (the server URL is added).
    link = c.json("alice", "circle", "takedown-link", cid)["link"]
    bare = link.split("#", 1)[1]
    filed = c.json("jan", "takedown", "request", f" <{bare}> ", "--name", "Jan", "--text", "no")
    receipt = filed["receipt"].split("#", 1)[1]
    assert (
        c.json("jan", "takedown", "status", receipt[:40] + "\n" + receipt[40:])["status"] == "open"
    )
    damaged = _error(c.run("jan", "takedown", "status", receipt[:-3], "--json"))
    assert damaged["code"] == "bad_receipt" and "takedown request" in damaged["message"]

    # audit show --json: null for no actor, ids with dashes.
    records = c.json("bob", "audit", "show", cid)
    filed = next(r for r in records if r["kind"] == "report_filed")
    assert filed["actor"] is None and filed["details"]["entry_id"] == entry


def test_usage_errors_are_one_line_or_json_on_stderr(tmp_path: Path) -> None:
    env = {"BACKCHANNEL_HOME": str(tmp_path), "BACKCHANNEL_SERVER": "http://127.0.0.1:9"}
    plain = CliRunner().invoke(cli, ["post", "somecircle"], env=env, prog_name="backchannel")
    assert plain.exit_code == 2
    assert plain.stderr.startswith("error [usage] Missing option '--subject'.")
    assert "╭" not in plain.output and "backchannel post --help" in plain.stderr
    as_json = CliRunner().invoke(cli, ["post", "somecircle", "--json"], env=env)
    assert as_json.exit_code == 2 and as_json.stdout == ""
    assert json.loads(as_json.stderr) == {
        "error": {"code": "usage", "message": "Missing option '--subject'."}
    }
    helped = CliRunner().invoke(cli, ["post", "--help"], env=env)
    said = " ".join(helped.output.split())
    assert "<str>" not in said and "list[str]" not in said
    assert "sexual-harassment" in said and "concern | serious | severe" in said
    undescribed = []

    def walk(command: Any, path: list[str]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])
        if not getattr(command, "commands", None) and not (command.help or "").strip():
            undescribed.append(" ".join(path))

    walk(typer.main.get_command(cli), [])
    assert undescribed == []


def test_an_ambiguous_prefix_lists_the_candidates() -> None:
    circles = [
        ("3f9c2a1b-0000-4000-8000-000000000001", "Film crews Berlin"),
        ("3f9c2a77-0000-4000-8000-000000000002", "Night shift"),
        ("aa000000-0000-4000-8000-000000000003", "3f9c2a"),
    ]
    with pytest.raises(ProtocolError) as caught:
        pick("circle", "3F9C-2A", circles, listed_by="backchannel circle list", names=True)
    assert caught.value.code == "ambiguous_id"
    assert "3f9c2a1b 'Film crews Berlin'; 3f9c2a77 'Night shift'" in caught.value.message
    assert pick("circle", "3f9c2a7", circles, listed_by="x", names=True) == circles[1][0]
    assert pick("circle", "NIGHT  shift", circles, listed_by="x", names=True) == circles[1][0]
    with pytest.raises(ProtocolError) as short:
        pick("entry", "3f9c2", circles, listed_by="backchannel read")
    assert short.value.code == "bad_entry_id"


def test_command_lists_flow_their_sentences_at_80_columns(tmp_path: Path) -> None:
    """A group's list of commands shows each one's first paragraph as flowing text, not
    with the docstring's line breaks (which broke its lines mid-sentence at 80 columns)."""
    env = {"BACKCHANNEL_HOME": str(tmp_path), "COLUMNS": "80", "TERM": "xterm"}
    listed = CliRunner().invoke(cli, ["moderation", "--help"], env=env)
    assert listed.exit_code == 0
    rows = [line.strip("│ ") for line in listed.output.splitlines()]
    start = next(i for i, row in enumerate(rows) if row.startswith("list "))
    # "Reports and takedown requests, newest first, a page at a time; decrypted and
    # verified on this device." fills its first line before going on to the next.
    assert rows[start].endswith("a page at a time;")
    assert rows[start + 1] == "decrypted and verified on this device."
    assert all(len(line) <= 80 for line in listed.output.splitlines())

    broken = []

    def walk(command: Any, path: list[str]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])
        for paragraph in (command.help or "").split("\n\n"):
            if "\n" in paragraph and not paragraph.startswith("\b"):
                broken.append(" ".join(path))

    walk(typer.main.get_command(cli), [])
    assert broken == []


def test_help_flowing_keeps_lists_no_rewrap_blocks_and_hidden_text() -> None:
    from types import SimpleNamespace

    from app.cli_help import flow_help

    command = SimpleNamespace(
        help="Sync the\n    circle now.\n\n- one\n- two\n\n\b\nkept\n  as is\n\f\nnot\nshown",
        commands={},
    )
    flow_help(command)  # type: ignore[arg-type]
    kept = "- one\n- two\n\n\b\nkept\n  as is\n\f\nnot\nshown"
    assert command.help == "Sync the circle now.\n\n" + kept
