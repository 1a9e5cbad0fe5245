"""The circles story through the real CLI against a live server (both engines)."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from typer.testing import CliRunner, Result

from app.client.cli.main import app as cli
from tests.conftest import serving


class Cli:
    def __init__(self, server: str, root: Path) -> None:
        self.server, self.root = server, root

    def run(self, who: str, *args: str, stdin: str | None = None) -> Result:
        env = {
            "BACKCHANNEL_SERVER": self.server,
            "BACKCHANNEL_HOME": str(self.root / who),
            "BACKCHANNEL_PASSPHRASE": "everyone has this long passphrase",
        }
        return CliRunner().invoke(cli, list(args), env=env, input=stdin)

    def json(self, who: str, *args: str) -> Any:
        result = self.run(who, *args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout.strip().splitlines()[-1])


def test_circle_story_through_the_cli(live_server: str, tmp_path: Path) -> None:
    c = Cli(live_server, tmp_path)
    fps = {who: c.json(who, "register", who)["fingerprint"] for who in ("alice", "bob", "carol")}

    created = c.json("alice", "circle", "create", "Film crews Berlin")
    assert created["name"] == "Film crews Berlin" and created["epoch"] == 0
    cid = created["circle_id"]
    assert c.json("alice", "circle", "list") == [
        {
            "circle_id": cid,
            "name": "Film crews Berlin",
            "role": "owner",
            "epoch": 0,
            "status": "active",
        }
    ]

    invite = c.json("alice", "invite", "create", cid, "--max-uses", "1", "--expires-in", "7")
    assert invite["invite"].startswith("bcinvite1.") and invite["invite_id"]
    assert c.json("bob", "join", invite["invite"]) == {
        "circle_id": cid,
        "status": "pending",
        "fingerprint": fps["bob"],
        "inviter_fingerprint": fps["alice"],
    }
    members = {m["username"]: m for m in c.json("alice", "member", "list", cid)}
    assert members["bob"]["status"] == "pending" and members["bob"]["fingerprint"] == fps["bob"]

    wrong = c.run("alice", "member", "confirm", cid, "bob", "--fingerprint", fps["carol"], "--json")
    assert wrong.exit_code == 1 and "fingerprint_mismatch" in wrong.output
    confirmed = c.json("alice", "member", "confirm", cid, "bob", "--fingerprint", fps["bob"])
    assert confirmed == {"username": "bob", "status": "active", "epoch": 0}
    assert c.json("bob", "circle", "list")[0]["name"] == "Film crews Berlin"

    invite2 = c.json("alice", "invite", "create", cid)
    c.json("carol", "join", invite2["invite"])
    prompted = c.run("alice", "member", "confirm", cid, "carol", stdin="y\n")
    assert prompted.exit_code == 0, prompted.output
    assert fps["carol"] in prompted.output

    assert c.json("alice", "member", "promote", cid, "carol") == {
        "username": "carol",
        "role": "admin",
    }
    assert c.json("carol", "member", "demote", cid, "carol")["role"] == "member"
    c.json("alice", "member", "promote", cid, "carol")

    removed = c.json("carol", "member", "remove", cid, "bob")
    assert removed == {"username": "bob", "status": "removed", "epoch": 1}
    gone = c.run("bob", "member", "list", cid, "--json")
    assert gone.exit_code == 1 and "not_a_member" in gone.output
    assert c.json("bob", "circle", "list") == []

    invite3 = c.json("alice", "invite", "create", cid)
    listed = {i["invite_id"]: i for i in c.json("alice", "invite", "list", cid)}
    assert listed[invite3["invite_id"]]["revoked"] is False
    assert c.json("alice", "invite", "revoke", cid, invite3["invite_id"])["revoked"] is True
    refused = c.run("bob", "join", invite3["invite"], "--json")
    assert refused.exit_code == 1 and "invite_revoked" in refused.output

    assert c.json("carol", "circle", "leave", cid)["status"] == "left"
    last = c.run("alice", "circle", "leave", cid, "--json")
    assert last.exit_code == 1 and "last_owner" in last.output
    rotated = c.json("alice", "circle", "rotate", cid)
    assert rotated["epoch"] == 2


def test_register_with_an_invite_on_an_invite_only_server(
    live_server: str, make_app: Callable[..., FastAPI], tmp_path: Path
) -> None:
    """The first accounts are made while the server is open; then it serves invite-only,
    and a newcomer makes an account with an invite and asks to join in one command."""
    c = Cli(live_server, tmp_path)
    c.json("alice", "register", "alice")
    cid = c.json("alice", "circle", "create", "Film crews Berlin")["circle_id"]
    invite = c.json("alice", "invite", "create", cid, "--max-uses", "1")["invite"]
    with serving(make_app(registration="invite")) as closed:
        c.server = closed
        refused = c.run("bob", "register", "bob", "--json")
        assert refused.exit_code == 1 and "invite_required" in refused.output
        made = c.json("bob", "register", "bob", "--invite", invite)
        assert made["joined"] == {"circle_id": cid, "status": "pending"}
        again = c.run("carol", "register", "carol", "--invite", invite, "--json")
        assert again.exit_code == 1 and "invite_used_up" in again.output
        members = {m["username"]: m for m in c.json("alice", "member", "list", cid)}
        assert (members["bob"]["status"], members["bob"]["fingerprint"]) == (
            "pending",
            made["fingerprint"],
        )


def test_an_owner_deletes_a_circle_and_members_see_who(live_server: str, tmp_path: Path) -> None:
    c = Cli(live_server, tmp_path)
    fps = {who: c.json(who, "register", who)["fingerprint"] for who in ("alice", "bob")}
    cid = c.json("alice", "circle", "create", "Film crews Berlin")["circle_id"]
    c.json("bob", "join", c.json("alice", "invite", "create", cid)["invite"])
    c.json("alice", "member", "confirm", cid, "bob", "--fingerprint", fps["bob"])
    assert c.json("bob", "circle", "list")[0]["name"] == "Film crews Berlin"  # bob's device pins it

    refused = c.run("bob", "circle", "delete", cid, "--yes", "--json")
    assert refused.exit_code == 1 and "owner_required" in refused.output
    asked = c.run("alice", "circle", "delete", cid, stdin="n\n")
    assert asked.exit_code == 1
    assert c.json("alice", "circle", "delete", cid, "--yes") == {
        "circle_id": cid,
        "status": "deleted",
    }

    [row] = c.json("bob", "circle", "list")
    assert (row["status"], row["deleted_by"], row["verified"], row["name"]) == (
        "deleted",
        "alice",
        True,
        "Film crews Berlin",
    )
    human = c.run("bob", "circle", "list")
    assert "deleted by alice" in human.output
    gone = c.run("bob", "read", cid, "--json")
    assert gone.exit_code == 1 and "circle_deleted" in gone.output


def test_a_member_deletes_their_account_on_the_cli(live_server: str, tmp_path: Path) -> None:
    c = Cli(live_server, tmp_path)
    fps = {who: c.json(who, "register", who)["fingerprint"] for who in ("alice", "bob")}
    cid = c.json("alice", "circle", "create", "Film crews Berlin")["circle_id"]
    c.json("bob", "join", c.json("alice", "invite", "create", cid)["invite"])
    c.json("alice", "member", "confirm", cid, "bob", "--fingerprint", fps["bob"])
    c.json("bob", "post", cid, "--subject", "Jan Novák", "--category", "harassment", "--text", "x")

    owner = c.run("alice", "account", "delete", "--warnings", "keep", "--yes", "--json")
    assert owner.exit_code == 1 and "last_owner" in owner.output
    deleted = c.json("bob", "account", "delete", "--warnings", "retract", "--yes")
    assert deleted == {"deleted": True, "circles_left": 1, "warnings_retracted": 1}
    gone = c.run("bob", "whoami", "--json")
    assert gone.exit_code == 1 and "not logged in" in gone.output
    members = {m["username"]: m["status"] for m in c.json("alice", "member", "list", cid)}
    assert members["bob"] == "left"
    assert c.json("alice", "check", cid, "jan novak")["matches"] == []
