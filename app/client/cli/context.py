"""What every command needs before it talks to a server: the URL, a client, the profile,
secrets from the environment or a prompt, and ids parsed from the command line."""

import os
import platform
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from app.client.anon import Anonymous, FileTokenStore
from app.client.cache import CACHE_DIR, FileCache
from app.client.circles import Circles, VerifiedCircle
from app.client.cli import output
from app.client.entries import Entries
from app.client.errors import ClientError, NotLoggedIn
from app.client.profile import Profile, home
from app.client.sdk import Client
from app.client.trust import TrustStore
from app.crypto.circles import ADMIN_ROLES

DEFAULT_SERVER = "http://127.0.0.1:8000"
CircleId = Annotated[
    str, typer.Argument(help="The circle: its name, its id, or the first 6+ characters of the id.")
]


class State:
    server: str | None = None
    http_factory: Callable[[str], Any] | None = None  # tests inject a transport here


state = State()


def server_url(profile: Profile | None = None) -> str:
    return state.server or (profile.server if profile else None) or DEFAULT_SERVER


def http_for(url: str) -> Any:
    """The injected transport for ``url`` in tests; None (httpx's own) otherwise."""
    return state.http_factory(url) if state.http_factory else None


def device_label() -> str:
    """How this device's sessions are named in the session list ("backchannel CLI on Linux")."""
    system = platform.system() or "an unknown system"
    return f"backchannel CLI on {system}"[:64]


def client(server: str, token: str | None = None) -> Client:
    return Client(server, token=token, http=http_for(server), device_label=device_label())


def secret(env: str, prompt: str, *, confirm: bool = False) -> str:
    value = os.environ.get(env)
    if value:
        return value
    entered: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return entered


def existing_profile() -> Profile | None:
    try:
        return Profile.load()
    except NotLoggedIn:
        return None


@contextmanager
def circles_session(as_json: bool) -> Iterator[Circles]:
    """The logged-in person's circles, inside the CLI's error handling."""
    with output.errors(as_json):
        profile = Profile.load()
        with client(server_url(profile), profile.token) as http:
            yield Circles(
                http,
                username=profile.username,
                identity=profile.identity,
                trust=TrustStore.load(),
            )


def anonymous_entries(circles: Circles) -> Entries:
    """Warnings with this device's stock of anonymous posting tokens (``tokens.json``)."""
    return Entries(circles, tokens=FileTokenStore())


def device_entries(circles: Circles) -> Entries:
    """Warnings with this device's encrypted copy of each circle (``BACKCHANNEL_HOME/cache``),
    so a read or a check fetches only what changed since the last one."""
    cache = FileCache(
        home() / CACHE_DIR,
        identity=circles.identity,
        username=circles.username,
        server=circles.client.base_url,
    )
    return Entries(circles, cache=cache, tokens=FileTokenStore())


def renew_moderation_key(circles: Circles, circle_id: uuid.UUID) -> None:
    """After a change of admins, make the moderation key theirs (or say who must)."""
    from app.client.moderation import Moderation

    try:
        Moderation(circles).ensure_key(circle_id)
        Anonymous(circles).certify(circle_id)  # a new epoch needs its token key signed
    except ClientError as exc:
        message = getattr(exc, "message", None) or str(exc)
        output.err.print(output.say(f"moderation key not renewed: {message}"), style="dim")


def set_up_moderation(circles: Circles, circle: VerifiedCircle) -> None:
    """An admin opening a circle that has no moderation key (older clients made none) makes
    one, so its members can report; a failure is said, not fatal."""
    from app.client.moderation import Moderation

    try:
        if Moderation(circles).set_up_if_missing(circle):
            output.err.print("this circle had no moderation key; one was made", style="dim")
        if circle.role in ADMIN_ROLES:
            # The epoch's token key, so members can post anonymously (§38.1).
            Anonymous(circles).certify(circle.circle_id)
    except ClientError as exc:
        message = getattr(exc, "message", None) or str(exc)
        output.err.print(output.say(f"moderation key not set up: {message}"), style="dim")


def stock_tokens(circles: Circles, circle: VerifiedCircle) -> None:
    """Opening a circle takes anonymous posting tokens if this device holds none of its
    epoch, so a later anonymous post does not follow its tokens' issuance at once
    (docs/protocol.md §38.2); a failure is said, not fatal."""
    try:
        Anonymous(circles, tokens=FileTokenStore()).stock_up(circle)
    except ClientError as exc:
        message = getattr(exc, "message", None) or str(exc)
        output.err.print(output.say(f"anonymous posting tokens not taken: {message}"), style="dim")
