"""The passphrase rule of docs/protocol.md §3.1: length, the bundled list, context words."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.accounts.models import User
from app.client.cli.main import app as cli
from app.client.errors import ClientError, CommonPassphrase, PassphraseContainsUsername
from app.client.passphrase import (
    COMMON_PASSPHRASES_FILE,
    check_passphrase,
    common_passphrases,
    normalise_for_check,
)
from app.client.sdk import Client
from app.crypto import RecoveryCode
from tests.conftest import PASSPHRASES

CASES = json.loads((Path(__file__).parent / "passphrase_cases.json").read_text())["cases"]
# Nothing listens here: a refused passphrase must not need the server.
NO_SERVER = "http://127.0.0.1:9"


def _users(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(User)) or 0)


def _code(username: str, passphrase: str) -> str | None:
    try:
        check_passphrase(passphrase, username=username)
    except ClientError as exc:
        return exc.code
    return None


@pytest.mark.parametrize("case", CASES, ids=[case["why"] for case in CASES])
def test_the_shared_cases(case: dict[str, Any]) -> None:
    """The same file drives web/test/client/passphrase.test.js: both clients agree."""
    assert _code(case["username"], case["passphrase"]) == case["code"]


@pytest.mark.asvs("6.1.2", "6.2.4", "6.2.12")
def test_the_list_holds_the_breach_corpus_and_the_documented_context_words() -> None:
    """ASVS 6.2.4, 6.2.12: far more than the top 3,000 breached passwords, in rank order.
    ASVS 6.1.2: the context words are in the same file, after their own comment."""
    text = COMMON_PASSPHRASES_FILE.read_text(encoding="utf-8")
    assert "@zxcvbn-ts/language-common@4.1.3" in text and "Permission is hereby granted" in text
    entries = [line for line in text.split("\n") if line and not line.startswith("#")]
    assert entries[:4] == ["123456", "password", "12345678", "qwerty"]
    assert len(common_passphrases()) > 45_000
    assert all(normalise_for_check(entry) == entry for entry in entries)
    context = text.split("# Context words")[1].split("\n")[1:]
    for word in ("backchannel", "whisper network", "recovery code", "correct horse battery staple"):
        assert word in context
    assert "docs/protocol.md §3.1" in text


@pytest.mark.asvs("6.2.4", "6.2.12")
def test_register_refuses_a_breached_passphrase_before_contacting_the_server(
    make_client: Callable[..., Client], engine: Engine
) -> None:
    """ASVS 6.2.4, 6.2.12: checked on the device against the bundled breach list; the
    passphrase is never sent for a lookup, and nothing reaches the server."""
    for passphrase in ("password1234", "  QWERTYUIOP123 ", "1q2w3e4r5t6y"):
        with pytest.raises(CommonPassphrase):
            make_client().register("dora", passphrase)
    assert _users(engine) == 0
    assert make_client().register("dora", "correct horse battery amber").username == "dora"


@pytest.mark.asvs("6.1.2", "6.2.11")
def test_register_refuses_context_words_and_the_username(
    make_client: Callable[..., Client], engine: Engine
) -> None:
    """ASVS 6.1.2, 6.2.11: the product's name anywhere, the documented context words as the
    whole passphrase, and the user's own name anywhere."""
    for passphrase in ("Backchannel2024!", "Whisper   Network", "correct horse battery staple"):
        with pytest.raises(CommonPassphrase):
            make_client().register("dora", passphrase)
    for passphrase in ("DORA the explorer", "i am dora, really"):
        with pytest.raises(PassphraseContainsUsername) as caught:
            make_client().register("Dora", passphrase)
        assert caught.value.code == "passphrase_contains_username"
    assert _users(engine) == 0


@pytest.mark.asvs("6.2.4", "6.2.11")
def test_change_and_recovery_refuse_a_listed_new_passphrase(
    register: Callable[..., Client], make_client: Callable[..., Client]
) -> None:
    """The rule holds wherever a passphrase is set; a refused change changes nothing."""
    client = register("alice")
    account = client.account  # type: ignore[attr-defined]
    for new, error in (
        ("password1234", CommonPassphrase),
        ("alice wonderland", PassphraseContainsUsername),
    ):
        with pytest.raises(error):
            client.change_passphrase(
                username="alice", current=PASSPHRASES["alice"], new=new, identity=account.identity
            )
        with pytest.raises(error):
            make_client().recover("alice", account.recovery_code, new)
    assert make_client().login("alice", PASSPHRASES["alice"]).fingerprint == account.fingerprint
    make_client().recover("alice", account.recovery_code, "a brand new passphrase here")


@pytest.mark.asvs("6.2.4", "6.2.11")
def test_the_cli_names_the_refusal(tmp_path: Path) -> None:
    """register and recover through the CLI: each refusal has its own code and plain words,
    decided before any request (the server address is dead)."""
    code = str(RecoveryCode.generate())
    for args, env, expected in (
        (["register", "dora"], {"BACKCHANNEL_PASSPHRASE": "Password1234"}, "common_passphrase"),
        (
            ["register", "dora"],
            {"BACKCHANNEL_PASSPHRASE": "dora dora dora"},
            "passphrase_contains_username",
        ),
        (["register", "dora"], {"BACKCHANNEL_PASSPHRASE": "too short"}, "weak_passphrase"),
        (
            ["recover", "dora"],
            {"BACKCHANNEL_RECOVERY_CODE": code, "BACKCHANNEL_NEW_PASSPHRASE": "my backchannel"},
            "common_passphrase",
        ),
    ):
        environment = {"BACKCHANNEL_SERVER": NO_SERVER, "BACKCHANNEL_HOME": str(tmp_path), **env}
        result = CliRunner().invoke(cli, [*args, "--json"], env=environment)
        assert result.exit_code == 1, result.output
        error = json.loads(result.stdout.strip().splitlines()[-1])["error"]
        assert error["code"] == expected
        assert "passphrase" in error["message"]
