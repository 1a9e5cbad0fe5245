"""`backchannel`: the command line. It parses arguments and prints; the SDK does the work."""

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.panel import Panel

from app.client.errors import ClientError, NotLoggedIn
from app.client.profile import Profile
from app.client.sdk import Client
from app.crypto import CryptoError, RecoveryCode

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Backchannel whisper network.")
passphrase_app = typer.Typer(no_args_is_help=True, help="Change your passphrase.")
app.add_typer(passphrase_app, name="passphrase")
sessions_app = typer.Typer(no_args_is_help=True, help="See and end your sessions.")
app.add_typer(sessions_app, name="sessions")

out = Console()
err = Console(stderr=True)

DEFAULT_SERVER = "http://127.0.0.1:8000"
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


class State:
    server: str | None = None
    http_factory: Callable[[str], Any] | None = None  # tests inject a transport here


state = State()


@app.callback()
def _main(
    server: Annotated[
        str | None,
        typer.Option(envvar="BACKCHANNEL_SERVER", help="Server URL (default: the profile's)."),
    ] = None,
) -> None:
    state.server = server


def _server(profile: Profile | None = None) -> str:
    return state.server or (profile.server if profile else None) or DEFAULT_SERVER


def _client(server: str, token: str | None = None) -> Client:
    http = state.http_factory(server) if state.http_factory else None
    return Client(server, token=token, http=http)


def _emit(as_json: bool, data: dict[str, Any] | list[Any], human: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data) + "\n")
    else:
        out.print(human)


@contextmanager
def _errors(as_json: bool) -> Iterator[None]:
    """Every failure: the stable code in the message, JSON on stdout with --json, exit 1."""
    try:
        yield
    except (ClientError, CryptoError) as exc:
        code = getattr(exc, "code", None) or type(exc).__name__
        message = getattr(exc, "message", None) or str(exc)
        if as_json:
            sys.stdout.write(json.dumps({"error": {"code": code, "message": message}}) + "\n")
        err.print(f"[bold red]error[/] [{code}] {message}", markup=True, highlight=False)
        raise typer.Exit(code=1) from None


def _secret(env: str, prompt: str, *, confirm: bool = False) -> str:
    value = os.environ.get(env)
    if value:
        return value
    entered: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return entered


def _profile() -> Profile:
    return Profile.load()


@app.command()
def register(username: str, as_json: JsonFlag = False) -> None:
    """Create an account. Prints your fingerprint and a one-time recovery code."""
    with _errors(as_json):
        passphrase = _secret("BACKCHANNEL_PASSPHRASE", "Passphrase", confirm=True)
        server = _server()
        with out.status("deriving keys…") if not as_json else _nothing(), _client(server) as client:
            account = client.register(username, passphrase)
        Profile.create(
            server=server,
            username=account.username,
            token=account.token,
            identity=account.identity,
        ).save()
        code = str(account.recovery_code)
        _emit(
            as_json,
            {
                "username": account.username,
                "fingerprint": account.fingerprint,
                "recovery_code": code,
            },
            f"Registered [bold]{account.username}[/]\nFingerprint: [bold]{account.fingerprint}[/]",
        )
        if not as_json:
            out.print(
                Panel(
                    f"[bold]{code}[/]",
                    title="Recovery code — write this down now",
                    subtitle="shown once; it restores your account if you forget the passphrase",
                )
            )


@contextmanager
def _nothing() -> Iterator[None]:
    yield


@app.command()
def login(username: str, as_json: JsonFlag = False) -> None:
    """Log in on this device; your keys come from the server, encrypted under your passphrase."""
    with _errors(as_json):
        passphrase = _secret("BACKCHANNEL_PASSPHRASE", "Passphrase")
        server = _server()
        previous = _existing_profile()
        # Presenting this device's old token makes the server end it (ASVS 7.2.4).
        old_token = previous.token if previous and previous.server == server else None
        with (
            out.status("deriving keys…") if not as_json else _nothing(),
            _client(server, old_token) as client,
        ):
            account = client.login(username, passphrase)
        if (
            previous
            and previous.username == account.username
            and previous.server == server
            and previous.fingerprint != account.fingerprint
        ):
            raise _identity_changed(previous.fingerprint, account.fingerprint)
        Profile.create(
            server=server,
            username=account.username,
            token=account.token,
            identity=account.identity,
        ).save()
        _emit(
            as_json,
            {"username": account.username, "fingerprint": account.fingerprint},
            f"Logged in as [bold]{account.username}[/]\n"
            f"Fingerprint: [bold]{account.fingerprint}[/]",
        )


def _identity_changed(old: str, new: str) -> ClientError:
    from app.client.errors import ProtocolError

    return ProtocolError(
        "identity_changed",
        f"your keys on the server changed (was {old}, now {new}); not saving this login",
    )


def _existing_profile() -> Profile | None:
    try:
        return Profile.load()
    except NotLoggedIn:
        return None


@app.command()
def whoami(as_json: JsonFlag = False) -> None:
    """Show who this profile is logged in as (checked with the server)."""
    with _errors(as_json):
        profile = _profile()
        with _client(_server(profile), profile.token) as client:
            client.whoami(username=profile.username, fingerprint=profile.fingerprint)
        _emit(
            as_json,
            {"username": profile.username, "fingerprint": profile.fingerprint},
            f"[bold]{profile.username}[/]  fingerprint {profile.fingerprint}",
        )


@passphrase_app.command("change")
def passphrase_change(as_json: JsonFlag = False) -> None:
    """Set a new passphrase (asks for the current one); other sessions end."""
    with _errors(as_json):
        profile = _profile()
        current = _secret("BACKCHANNEL_PASSPHRASE", "Current passphrase")
        new = _secret("BACKCHANNEL_NEW_PASSPHRASE", "New passphrase", confirm=True)
        with (
            out.status("deriving keys…") if not as_json else _nothing(),
            _client(_server(profile), profile.token) as client,
        ):
            client.change_passphrase(
                username=profile.username, current=current, new=new, identity=profile.identity
            )
        _emit(
            as_json,
            {"username": profile.username, "changed": True},
            "Passphrase changed; your other sessions have ended.",
        )


@app.command()
def recover(username: str, as_json: JsonFlag = False) -> None:
    """Use your recovery code to set a new passphrase. Your keys stay the same."""
    with _errors(as_json):
        code = RecoveryCode.parse(_secret("BACKCHANNEL_RECOVERY_CODE", "Recovery code"))
        new = _secret("BACKCHANNEL_NEW_PASSPHRASE", "New passphrase", confirm=True)
        server = _server()
        previous = _existing_profile()
        old_token = previous.token if previous and previous.server == server else None
        with (
            out.status("deriving keys…") if not as_json else _nothing(),
            _client(server, old_token) as client,
        ):
            account = client.recover(username, code, new)
        Profile.create(
            server=server,
            username=account.username,
            token=account.token,
            identity=account.identity,
        ).save()
        fresh = str(account.recovery_code)
        _emit(
            as_json,
            {
                "username": account.username,
                "fingerprint": account.fingerprint,
                "recovery_code": fresh,
            },
            f"Recovered [bold]{account.username}[/]; every other session has ended.\n"
            f"Fingerprint: [bold]{account.fingerprint}[/]",
        )
        if not as_json:
            out.print(
                Panel(
                    f"[bold]{fresh}[/]",
                    title="Your NEW recovery code — write it down",
                    subtitle="the old code no longer works",
                )
            )


@sessions_app.command("list")
def sessions_list(as_json: JsonFlag = False) -> None:
    """Show this account's live sessions (this device's is marked)."""
    with _errors(as_json):
        profile = _profile()
        with _client(_server(profile), profile.token) as client:
            rows = client.sessions()
        human = "\n".join(
            f"{row['session_id']}  since {row['created_at']}  last used {row['last_used_at']}"
            + ("  (this device)" if row["current"] else "")
            for row in rows
        )
        _emit(as_json, rows, human)


@sessions_app.command("end")
def sessions_end(
    session_ids: Annotated[
        list[str] | None, typer.Argument(help="Sessions to end (default: every other one).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """End sessions (asks for your passphrase again)."""
    with _errors(as_json):
        profile = _profile()
        passphrase = _secret("BACKCHANNEL_PASSPHRASE", "Passphrase")
        with (
            out.status("deriving keys…") if not as_json else _nothing(),
            _client(_server(profile), profile.token) as client,
        ):
            ended = client.end_sessions(
                username=profile.username, passphrase=passphrase, session_ids=session_ids or None
            )
        _emit(as_json, {"ended": ended}, f"Sessions ended: {ended}")


@app.command()
def logout(as_json: JsonFlag = False) -> None:
    """End this session on the server and delete the local profile."""
    with _errors(as_json):
        profile = _profile()
        with _client(_server(profile), profile.token) as client:
            try:
                client.logout()
            except ClientError as exc:
                if getattr(exc, "status", None) != 401:  # already ended server-side
                    raise
        Profile.delete()
        _emit(as_json, {"logged_out": True}, "Logged out; local keys deleted.")


def main() -> None:
    app()


# Circle commands live in their own module; it needs the helpers above, so it comes last.
from app.client import cli_circles, cli_entries, cli_moderation  # noqa: E402

cli_circles.install(app)
cli_entries.install(app)
cli_moderation.install(app)
