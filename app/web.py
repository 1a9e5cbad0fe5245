"""The web client: its HTML entry points and every asset it loads, served by the app itself.

Only files are served: the page does all the cryptography in the browser and talks to
the same JSON API as any other client. Nothing here reads a session or the database.

Every response carries a strict Content-Security-Policy. The one inline element is the
page's import map (browsers cannot load an import map from a file), which maps the
bare specifiers of libsodium.js's ES modules to the vendored copies below; it is
allowed by its SHA-256 hash alone, so no other inline script can run.

One data file is served too: the list of common passphrases both clients refuse
(docs/protocol.md §3.1), the very file the Python client reads from its package.

Code integrity (docs/protocol.md §35): the page is served with Subresource Integrity on its
script and stylesheet and an ``integrity`` table in its import map covering every module, all
computed from the files served here; the service worker (``/sw.js``) checks the same SHA-256s
against the release manifest signed with the release key, which this server only serves
(``/web-release.json``, from ``BACKCHANNEL_WEB_RELEASE``) and cannot make.
"""

import base64
import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.routing import APIRoute

from app import bundled
from app.client.passphrase import COMMON_PASSPHRASES_FILE
from app.crypto.release import SignedRelease, asset_digest
from app.errors import NotFound, ReleaseNotPublished

# web/src, bundled into the package (pyproject.toml, [tool.backchannel.bundled]).
SOURCE = bundled.path("web")
ENTRY_PAGE = SOURCE / "ui" / "index.html"
# The service worker, at the root so that its scope is the whole origin.
WORKER = SOURCE / "worker" / "sw.js"
WORKER_PATH = "/sw.js"
RELEASE_PATH = "/web-release.json"
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
# A script or stylesheet tag that loads one of our assets: it gets an integrity attribute.
_SUBRESOURCE = re.compile(
    r'<(?:script\b[^>]*?\bsrc|link\b[^>]*?\brel="stylesheet"[^>]*?\bhref)="(/[^"]+)"'
)

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


@lru_cache(maxsize=512)
def _file_digest(path: Path, mtime_ns: int, size: int) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()


def _sri(path: Path) -> str:
    """``sha256-…`` of a file (cached while it is unchanged on disk)."""
    status = path.stat()
    return (
        "sha256-"
        + base64.b64encode(_file_digest(path, status.st_mtime_ns, status.st_size)).decode()
    )


def render_entry_page() -> str:
    """index.html with Subresource Integrity: an ``integrity`` attribute on each script and
    stylesheet tag, and the import map's ``integrity`` table naming every module served."""
    try:
        html = ENTRY_PAGE.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound("The web client is not installed on this server.") from None
    files = _static_files()

    def tag(match: re.Match[str]) -> str:
        path = files.get(match.group(1))
        if path is None or "integrity=" in match.group(0):
            return match.group(0)
        return f'{match.group(0)} integrity="{_sri(path)}"'

    def import_map(match: re.Match[str]) -> str:
        table = json.loads(match.group(1))
        table["integrity"] = {
            url: _sri(path) for url, path in files.items() if path.suffix in (".js", ".mjs")
        }
        body = json.dumps(table, separators=(",", ":"), sort_keys=True)
        return f'<script type="importmap">{body}</script>'

    return _IMPORT_MAP.sub(import_map, _SUBRESOURCE.sub(tag, html))


def _entry_page() -> HTMLResponse:
    """The one HTML page: the script reads the path (`/join`, `/takedown`, …) and the fragment."""
    html = render_entry_page()
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


@router.get(WORKER_PATH)
def worker() -> Response:
    """The service worker that checks every page and script against the signed release."""
    return _file(WORKER)


@router.get(RELEASE_PATH)
def release(request: Request) -> Response:
    """The release manifest the operator installed (signed elsewhere; this server cannot sign)."""
    published: bytes | None = request.app.state.web_release
    if published is None:
        raise ReleaseNotPublished()
    return Response(
        published,
        media_type="application/json",
        headers=security_headers(content_security_policy()),
    )


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


def entry_paths() -> list[str]:
    """The paths that serve the page: every fixed GET route here but the worker and release."""
    return [
        route.path
        for route in router.routes
        if isinstance(route, APIRoute)
        and "{" not in route.path
        and route.path not in (WORKER_PATH, RELEASE_PATH)
    ]


def _static_files() -> dict[str, Path]:
    assets: dict[str, Path] = {}
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


def served_assets() -> dict[str, bytes]:
    """Every URL path the web client loads, with the exact bytes served for it: the pages
    (rendered, with their integrity attributes), the worker, modules, styles and data."""
    page = render_entry_page().encode("utf-8")
    assets = {path: page for path in entry_paths()}
    assets[WORKER_PATH] = WORKER.read_bytes()
    for url, path in _static_files().items():
        assets[url] = path.read_bytes()
    return dict(sorted(assets.items()))


def asset_digests() -> dict[str, str]:
    """URL path -> lowercase hex SHA-256: what a release manifest lists (§35.1)."""
    return {url: asset_digest(body) for url, body in served_assets().items()}


def asset_hashes() -> str:
    """``sha256  path`` lines for every asset, as docs/web-assets.sha256 keeps them."""
    return "".join(f"{digest}  {url}\n" for url, digest in asset_digests().items())


def load_release(path: Path | None) -> bytes | None:
    """The signed release file the operator installed, checked against what is served here:
    a server refuses to start with a manifest that would raise every returning browser's alarm."""
    if path is None:
        return None
    raw = path.read_bytes()
    signed = SignedRelease.parse(raw)  # CryptoError: not a signed release
    if dict(signed.manifest.assets) != asset_digests():
        differ = sorted(set(signed.manifest.assets.items()) ^ set(asset_digests().items()))
        raise ReleaseMismatch(
            f"{path} is release {signed.manifest.release}, which lists other files than this "
            f"server serves ({', '.join(sorted({url for url, _ in differ}))})"
        )
    return raw


class ReleaseMismatch(RuntimeError):
    """The installed release manifest does not list the files this server serves."""


def install_web_client(app: FastAPI, release: bytes | None) -> None:
    """Serve the web client next to the API (all of it public: it holds no secrets)."""
    app.state.web_release = release
    app.include_router(router)
