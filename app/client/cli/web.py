"""`backchannel web verify URL`: does a server serve exactly a signed web release?"""

from pathlib import Path
from typing import Annotated

import httpx
import typer

from app.client.cli.context import http_for
from app.client.cli.output import JsonFlag, emit, err, say
from app.client.release import check_server
from app.crypto import CryptoError, b64decode
from app.crypto.release import SignedRelease

app = typer.Typer()
web_app = typer.Typer(no_args_is_help=True, help="Check the web client a server serves.")
app.add_typer(web_app, name="web")


@web_app.command("verify")
def web_verify(
    url: Annotated[str, typer.Argument(help="The server's base URL.")],
    manifest: Annotated[
        Path | None,
        typer.Option(help="The signed release file published with the release (web-release.json)."),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            help="The release public key (base64, from the release notes) it must be signed by."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Fetch every asset of the release and compare its SHA-256: exit 0 if the server serves
    exactly the release, 1 if anything differs, 2 if the check could not be made."""
    if manifest is None and key is None:
        err.print("give --manifest FILE (the published release) or --key (the release key)")
        raise typer.Exit(code=2)
    try:
        published = None if manifest is None else SignedRelease.parse(manifest.read_bytes())
        release_key = None if key is None else b64decode(key)
        injected = http_for(url)
        http = injected or httpx.Client(timeout=30.0, follow_redirects=False)
        try:
            result = check_server(http, url, published=published, key=release_key)
        finally:
            if injected is None:
                http.close()
    except (CryptoError, OSError, httpx.HTTPError) as exc:
        if as_json:
            emit(True, {"ok": False, "error": type(exc).__name__, "message": str(exc)}, "")
        err.print(say(("not checked", "bold red"), f": {exc}"), soft_wrap=True)
        raise typer.Exit(code=2) from None
    summary = (
        f"release {result.release} ({result.version}), key {result.key_fingerprint}: "
        f"{result.checked} files checked"
    )
    if result.ok:
        emit(
            as_json,
            result.to_json(),
            say(("the server serves exactly", "bold green"), f" {summary}"),
        )
        return
    lines = "\n".join(f"  {d['path']}: {d['problem']}" for d in result.differences)
    emit(
        as_json,
        result.to_json(),
        say(("the server differs from", "bold red"), f" {summary}\n{lines}"),
    )
    raise typer.Exit(code=1)
