"""The README's story through the real CLI against a live uvicorn server."""

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from app.client.cli.main import app as cli

PASS = "correct horse battery amber"
NEW = "a brand new passphrase here"


def run(server: str, home: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    environment = {"BACKCHANNEL_SERVER": server, "BACKCHANNEL_HOME": str(home)}
    environment.update(env or {})
    return CliRunner().invoke(cli, list(args), env=environment)


def data(result: Result) -> dict[str, object]:
    assert result.exit_code == 0, result.output
    parsed: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def test_register_login_whoami_change_recover_logout(live_server: str, tmp_path: Path) -> None:
    laptop, phone, spare = tmp_path / "laptop", tmp_path / "phone", tmp_path / "spare"
    registered = data(
        run(
            live_server, laptop, "register", "alice", "--json", env={"BACKCHANNEL_PASSPHRASE": PASS}
        )
    )
    fingerprint = registered["fingerprint"]
    recovery_code = str(registered["recovery_code"])
    profile = laptop / "profile.json"
    assert stat.S_IMODE(os.stat(profile).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(laptop).st_mode) == 0o700

    logged_in = data(
        run(live_server, phone, "login", "alice", "--json", env={"BACKCHANNEL_PASSPHRASE": PASS})
    )
    assert logged_in == {"username": "alice", "fingerprint": fingerprint}
    assert data(run(live_server, phone, "whoami", "--json")) == logged_in

    wrong = run(
        live_server,
        spare,
        "login",
        "alice",
        "--json",
        env={"BACKCHANNEL_PASSPHRASE": "not the passphrase"},
    )
    assert wrong.exit_code == 1
    assert "invalid_credentials" in wrong.output

    data(
        run(
            live_server,
            laptop,
            "passphrase",
            "change",
            "--json",
            env={"BACKCHANNEL_PASSPHRASE": PASS, "BACKCHANNEL_NEW_PASSPHRASE": NEW},
        )
    )
    ended = run(live_server, phone, "whoami", "--json")
    assert ended.exit_code == 1 and "not_authenticated" in ended.output
    assert data(run(live_server, laptop, "whoami", "--json"))["fingerprint"] == fingerprint

    recovered = data(
        run(
            live_server,
            spare,
            "recover",
            "alice",
            "--json",
            env={
                "BACKCHANNEL_RECOVERY_CODE": recovery_code.lower(),
                "BACKCHANNEL_NEW_PASSPHRASE": "a third passphrase entirely",
            },
        )
    )
    assert recovered["fingerprint"] == fingerprint
    assert recovered["recovery_code"] != recovery_code
    laptop_after = run(live_server, laptop, "whoami", "--json")
    assert laptop_after.exit_code == 1 and "not_authenticated" in laptop_after.output

    assert data(run(live_server, spare, "logout", "--json")) == {"logged_out": True}
    assert not (spare / "profile.json").exists()
    gone = run(live_server, spare, "whoami", "--json")
    assert gone.exit_code == 1 and "not_logged_in" in gone.output


def test_register_prompts_twice_for_the_passphrase(live_server: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["register", "bob"],
        input=f"{PASS}\n{PASS}\n",
        env={"BACKCHANNEL_SERVER": live_server, "BACKCHANNEL_HOME": str(tmp_path)},
    )
    assert result.exit_code == 0, result.output
    assert "Recovery code" in result.output
    assert "Fingerprint" in result.output


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    result = run(
        "http://127.0.0.1:9",
        tmp_path,
        "login",
        "alice",
        "--json",
        env={"BACKCHANNEL_PASSPHRASE": PASS},
    )
    assert result.exit_code == 1
    assert "server_unreachable" in result.output


@pytest.mark.parametrize("name", ["", "x", "has space"])
def test_bad_username_fails_before_any_request(tmp_path: Path, name: str) -> None:
    result = run(
        "http://127.0.0.1:9",
        tmp_path,
        "register",
        name,
        "--json",
        env={"BACKCHANNEL_PASSPHRASE": PASS},
    )
    assert result.exit_code == 1
    assert "InvalidKey" in result.output or "usernames" in result.output
