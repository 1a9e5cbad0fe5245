"""The web client: its HTML entry points and every asset it loads, served by the app itself.

Only files are served: the page does all the cryptography in the browser and talks to
the same JSON API as any other client. Nothing here reads a session or the database.

Every response carries a strict Content-Security-Policy. The one inline element is the
page's import map (browsers cannot load an import map from a file), which maps the
bare specifiers of libsodium.js's ES modules to the vendored copies below; it is
allowed by its SHA-256 hash alone, so no other inline script can run.

One data file is served too: the list of common passphrases both clients refuse
(docs/protocol.md §3.1), the very file the Python client reads from its package.
"""

import base64
import hashlib
import re
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

from app import bundled
from app.client.passphrase import COMMON_PASSPHRASES_FILE
from app.errors import NotFound

# web/src, bundled into the package (pyproject.toml, [tool.backchannel.bundled]).
SOURCE = bundled.path("web")
ENTRY_PAGE = SOURCE / "ui" / "index.html"
# The client's own modules, by top-level folder under web/src.
SOURCE_AREAS = frozenset({"client", "protocol", "ui"})
# Third-party modules, bundled from web/node_modules (installed from the npm lock file): an
# allow-list, so nothing else bundled (their licence) is served.
VENDOR = {
    name: bundled.path("vendor") / name
    for name in ("libsodium-wrappers-sumo.mjs", "libsodium-sumo.mjs")
}
# Data files the client reads, by name: the same files the Python client reads.
DATA = {"common-passphrases.txt": COMMON_PASSPHRASES_FILE}
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*\.[a-z]+$")
_IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.DOTALL)

BASE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self' 'wasm-unsafe-eval'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
}


def content_security_policy(script_hashes: tuple[str, ...] = ()) -> str:
    """The page's policy; ``script_hashes`` admit exactly these inline scripts (the import map)."""
    policy = dict(BASE_POLICY)
    if script_hashes:
        policy["script-src"] += "".join(f" 'sha256-{digest}'" for digest in script_hashes)
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def security_headers(csp: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        # Revalidate on every load, so a page never runs with modules of another version.
        "Cache-Control": "no-cache",
    }


def _inline_script_hashes(html: str) -> tuple[str, ...]:
    return tuple(
        base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii")
        for body in _IMPORT_MAP.findall(html)
    )


def _entry_page() -> HTMLResponse:
    """The one HTML page: the script reads the path (`/join`, `/takedown`, …) and the fragment."""
    try:
        html = ENTRY_PAGE.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound("The web client is not installed on this server.") from None
    csp = content_security_policy(_inline_script_hashes(html))
    return HTMLResponse(html, headers=security_headers(csp))


def _file(path: Path, media_type: str | None = None) -> FileResponse:
    if not path.is_file():
        raise NotFound()
    return FileResponse(
        path,
        media_type=media_type or MEDIA_TYPES[path.suffix],
        headers=security_headers(content_security_policy()),
    )


router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> HTMLResponse:
    return _entry_page()


@router.get("/join")
def join() -> HTMLResponse:
    """Opens an invite link; the invite itself stays in the fragment, never sent here."""
    return _entry_page()


@router.get("/takedown")
def takedown() -> HTMLResponse:
    return _entry_page()


@router.get("/receipt")
def receipt() -> HTMLResponse:
    return _entry_page()


@router.get("/static/vendor/{name}")
def vendor(name: str) -> Response:
    path = VENDOR.get(name)
    if path is None:
        raise NotFound()
    return _file(path)


@router.get("/static/data/{name}")
def data(name: str) -> Response:
    path = DATA.get(name)
    if path is None:
        raise NotFound()
    return _file(path, "text/plain; charset=utf-8")


@router.get("/static/{area}/{path:path}")
def source(area: str, path: str) -> Response:
    """A module or stylesheet of the client; no directory listing, no dot-files, no `..`."""
    if area not in SOURCE_AREAS or not _SAFE_PATH.match(path):
        raise NotFound()
    target = SOURCE / area / path
    if target.suffix not in MEDIA_TYPES:
        raise NotFound()
    return _file(target)


def served_assets() -> dict[str, Path]:
    """Every URL path the web client can load, with the file served for it."""
    assets = {"/": ENTRY_PAGE}
    for area in sorted(SOURCE_AREAS):
        for path in sorted((SOURCE / area).rglob("*")):
            relative = path.relative_to(SOURCE / area).as_posix()
            if path.is_file() and path.suffix in MEDIA_TYPES and _SAFE_PATH.match(relative):
                assets[f"/static/{area}/{relative}"] = path
    for name, path in sorted(VENDOR.items()):
        assets[f"/static/vendor/{name}"] = path
    for name, path in sorted(DATA.items()):
        assets[f"/static/data/{name}"] = path
    return assets


def asset_hashes() -> str:
    """``sha256  path`` lines for every asset: what a release publishes (docs/web-assets.sha256)
    so a careful user, or a browser extension, can check the code their browser ran."""
    lines = [
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {url}"
        for url, path in served_assets().items()
    ]
    return "\n".join(lines) + "\n"


def install_web_client(app: FastAPI) -> None:
    """Serve the web client next to the API (all of it public: it holds no secrets)."""
    app.include_router(router)
