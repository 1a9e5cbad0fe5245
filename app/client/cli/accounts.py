"""`backchannel register|login|whoami|recover|logout|passphrase|sessions`: the account."""

import shutil
from typing import Annotated

import typer
from rich.text import Text

from app.client.anon import TOKENS_FILE
from app.client.cache import CACHE_DIR
from app.client.circles import Circles
from app.client.cli.context import client, existing_profile, secret, server_url
from app.client.cli.ids import pick
from app.client.cli.output import JsonFlag, emit, errors, out, say, short_id, shown, token, working
from app.client.deletion import delete_account
from app.client.errors import ClientError, ProtocolError
from app.client.profile import Profile, home
from app.client.trust import TrustStore
from app.crypto import RecoveryCode

app = typer.Typer()
passphrase_app = typer.Typer(no_args_is_help=True, help="Change your passphrase.")
app.add_typer(passphrase_app, name="passphrase")
sessions_app = typer.Typer(no_args_is_help=True, help="See and end your sessions.")
app.add_typer(sessions_app, name="sessions")
account_app = typer.Typer(no_args_is_help=True, help="Delete your account.")
app.add_typer(account_app, name="account")


@app.command()
def register(
    username: str,
    invite: Annotated[
        str | None,
        typer.Option(help="A circle invite: make the account with it, then ask to join."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an account. Prints your fingerprint and a one-time recovery code."""
    with errors(as_json):
        passphrase = secret("BACKCHANNEL_PASSPHRASE", "Passphrase", confirm=True)
        server = server_url()
        with working(as_json, "deriving keys…"), client(server) as http:
            account = http.register(username, passphrase, invite=invite)
        Profile.create(
            server=server,
            username=account.username,
            token=account.token,
            identity=account.identity,
        ).save()
        joined = None
        if invite is not None:
            with client(server, account.token) as http:
                circles = Circles(
                    http,
                    username=account.username,
                    identity=account.identity,
                    trust=TrustStore.load(),
                )
                joined = circles.join(invite)
        code = str(account.recovery_code)
        data = {
            "username": account.username,
            "fingerprint": account.fingerprint,
            "recovery_code": code,
            **({} if joined is None else {"joined": joined}),
        }
        if as_json:
            emit(True, data, "")
            return
        out.print(say("Registered ", (shown(account.username), "bold")))
        token(account.fingerprint, label="Fingerprint:")
        if joined is not None:
            out.print("Asked to join the circle. Read your fingerprint to an admin.")
        _recovery_code(
            code,
            "Recovery code: write this down now. It is shown once; it restores your "
            "account if you forget the passphrase.",
        )


def _recovery_code(code: str, title: str) -> None:
    out.print(Text(title, style="bold"))
    token(code)


@app.command()
def login(username: str, as_json: JsonFlag = False) -> None:
    """Log in on this device; your keys come from the server, encrypted under your passphrase."""
    with errors(as_json):
        passphrase = secret("BACKCHANNEL_PASSPHRASE", "Passphrase")
        server = server_url()
        previous = existing_profile()
        # Presenting this device's old token makes the server end it (ASVS 7.2.4).
        old_token = previous.token if previous and previous.server == server else None
        with (
            working(as_json, "deriving keys…"),
            client(server, old_token) as http,
        ):
            account = http.login(username, passphrase)
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
        emit(
            as_json,
            {"username": account.username, "fingerprint": account.fingerprint},
            say("Logged in as ", (shown(account.username), "bold")),
        )
        if not as_json:
            token(account.fingerprint, label="Fingerprint:")


def _identity_changed(old: str, new: str) -> ClientError:
    return ProtocolError(
        "identity_changed",
        f"your keys on the server changed (was {old}, now {new}); not saving this login",
    )


@app.command()
def whoami(as_json: JsonFlag = False) -> None:
    """Show who this profile is logged in as (checked with the server)."""
    with errors(as_json):
        profile = Profile.load()
        with client(server_url(profile), profile.token) as http:
            http.whoami(username=profile.username, fingerprint=profile.fingerprint)
        emit(
            as_json,
            {"username": profile.username, "fingerprint": profile.fingerprint},
            say((shown(profile.username), "bold")),
        )
        if not as_json:
            token(profile.fingerprint, label="Fingerprint:")


@passphrase_app.command("change")
def passphrase_change(as_json: JsonFlag = False) -> None:
    """Set a new passphrase (asks for the current one); other sessions end."""
    with errors(as_json):
        profile = Profile.load()
        current = secret("BACKCHANNEL_PASSPHRASE", "Current passphrase")
        new = secret("BACKCHANNEL_NEW_PASSPHRASE", "New passphrase", confirm=True)
        with (
            working(as_json, "deriving keys…"),
            client(server_url(profile), profile.token) as http,
        ):
            http.change_passphrase(
                username=profile.username, current=current, new=new, identity=profile.identity
            )
        emit(
            as_json,
            {"username": profile.username, "changed": True},
            "Passphrase changed; your other sessions have ended.",
        )


@app.command()
def recover(username: str, as_json: JsonFlag = False) -> None:
    """Use your recovery code to set a new passphrase. Your keys stay the same."""
    with errors(as_json):
        code = RecoveryCode.parse(secret("BACKCHANNEL_RECOVERY_CODE", "Recovery code"))
        new = secret("BACKCHANNEL_NEW_PASSPHRASE", "New passphrase", confirm=True)
        server = server_url()
        previous = existing_profile()
        old_token = previous.token if previous and previous.server == server else None
        with (
            working(as_json, "deriving keys…"),
            client(server, old_token) as http,
        ):
            account = http.recover(username, code, new)
        Profile.create(
            server=server,
            username=account.username,
            token=account.token,
            identity=account.identity,
        ).save()
        fresh = str(account.recovery_code)
        emit(
            as_json,
            {
                "username": account.username,
                "fingerprint": account.fingerprint,
                "recovery_code": fresh,
            },
            say(
                "Recovered ",
                (shown(account.username), "bold"),
                "; every other session has ended.",
            ),
        )
        if not as_json:
            token(account.fingerprint, label="Fingerprint:")
            _recovery_code(
                fresh, "Your NEW recovery code: write it down. The old one no longer works."
            )


@sessions_app.command("list")
def sessions_list(as_json: JsonFlag = False) -> None:
    """Show this account's live sessions (this device's is marked)."""
    with errors(as_json):
        profile = Profile.load()
        with client(server_url(profile), profile.token) as http:
            rows = http.sessions()
        if as_json:
            emit(True, rows, "")
            return
        for row in rows:
            out.print(
                say(
                    shown(row.get("device_label") or "unnamed device"),
                    f" since {row['created_at'][:16]}, last used {row['last_used_at'][:16]}"
                    + (" (this device)" if row["current"] else "")
                    + " · id ",
                ),
                end="",
            )
            token(short_id(row["session_id"]))


@sessions_app.command("end")
def sessions_end(
    session_ids: Annotated[
        list[str] | None,
        typer.Argument(
            help="Sessions to end, by the id `sessions list` shows (default: every other one)."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """End sessions (asks for your passphrase again)."""
    with errors(as_json):
        profile = Profile.load()
        passphrase = secret("BACKCHANNEL_PASSPHRASE", "Passphrase")
        with client(server_url(profile), profile.token) as http:
            rows = http.sessions() if session_ids else []
            chosen = [
                pick(
                    "session",
                    text,
                    [(str(r["session_id"]), None) for r in rows],
                    listed_by="backchannel sessions list",
                )
                for text in session_ids or []
            ]
            with working(as_json, "deriving keys…"):
                ended = http.end_sessions(
                    username=profile.username, passphrase=passphrase, session_ids=chosen or None
                )
        emit(as_json, {"ended": ended}, f"Sessions ended: {ended}")


@account_app.command("delete")
def account_delete(
    warnings: Annotated[
        str,
        typer.Option(
            help="retract: wipe your warnings for everyone; keep: leave them, shown as from "
            "a former member."
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask to confirm.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Delete your account (asks for your passphrase again). You leave every circle; this
    cannot be undone, and the name is never given out again."""
    with errors(as_json):
        if warnings not in ("retract", "keep"):
            raise ProtocolError("bad_choice", "--warnings must be retract or keep")
        profile = Profile.load()
        if not yes and not typer.confirm(f"Delete the account {profile.username} for good?"):
            raise typer.Exit(1)
        passphrase = secret("BACKCHANNEL_PASSPHRASE", "Passphrase")
        with (
            working(as_json, "deriving keys…"),
            client(server_url(profile), profile.token) as http,
        ):
            circles = Circles(
                http, username=profile.username, identity=profile.identity, trust=TrustStore.load()
            )
            result = delete_account(circles, passphrase=passphrase, warnings=warnings)
        Profile.delete()
        shutil.rmtree(home() / CACHE_DIR, ignore_errors=True)
        emit(
            as_json,
            {"deleted": True, **result},
            f"Account deleted; you left {result['circles_left']} circle(s) and "
            f"{result['warnings_retracted']} warning(s) were retracted.",
        )


@app.command()
def logout(as_json: JsonFlag = False) -> None:
    """End this session on the server and delete the local profile."""
    with errors(as_json):
        profile = Profile.load()
        with client(server_url(profile), profile.token) as http:
            try:
                http.logout()
            except ClientError as exc:
                if getattr(exc, "status", None) != 401:  # already ended server-side
                    raise
        Profile.delete()
        shutil.rmtree(home() / CACHE_DIR, ignore_errors=True)  # the synced warnings
        # Unspent anonymous tokens would let whoever holds the device post as a member.
        (home() / TOKENS_FILE).unlink(missing_ok=True)
        emit(as_json, {"logged_out": True}, "Logged out; local keys and warnings deleted.")
