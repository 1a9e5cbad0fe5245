import base64
import hashlib
import json
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from app.web import VENDOR, asset_hashes


def test_libsodium_is_installed() -> None:
    """`make test` installs web/node_modules before pytest; a missing vendor file fails here."""
    assert all(path.is_file() for path in VENDOR.values())


def _policy(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.mark.parametrize("path", ["/", "/join", "/takedown", "/receipt"])
def test_entry_pages_are_the_app_with_a_strict_policy(http: TestClient, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = _policy(response.headers["content-security-policy"])
    assert policy["default-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert re.search(
        r'<script type="module" src="/static/ui/app.js" integrity="sha256-[^"]+">', response.text
    )


def test_the_only_inline_script_allowed_is_the_import_map(http: TestClient) -> None:
    response = http.get("/")
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", response.text, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    script_src = _policy(response.headers["content-security-policy"])["script-src"]
    assert script_src == f"'self' 'wasm-unsafe-eval' 'sha256-{digest}'"
    assert "style=" not in response.text
    assert "<style" not in response.text


def test_the_import_map_names_only_vendored_modules(http: TestClient) -> None:
    html = http.get("/").text
    [import_map] = re.findall(r'<script type="importmap">(.*?)</script>', html, re.DOTALL)
    targets = list(json.loads(import_map)["imports"].values())
    assert sorted(targets) == [
        "/static/vendor/libsodium-sumo.mjs",
        "/static/vendor/libsodium-wrappers-sumo.mjs",
    ]
    for target in targets:
        response = http.get(target)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/javascript")
        assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("path", "type_"),
    [
        ("/static/ui/app.js", "text/javascript"),
        ("/static/ui/styles.css", "text/css"),
        ("/static/protocol/sodium.js", "text/javascript"),
        ("/static/client/sdk.js", "text/javascript"),
        ("/static/data/common-passphrases.txt", "text/plain"),
    ],
)
def test_client_assets_are_served_with_their_type(http: TestClient, path: str, type_: str) -> None:
    response = http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(type_)
    assert "content-security-policy" in response.headers


@pytest.mark.parametrize(
    "path",
    [
        "/static/ui/index.html",  # pages only at their entry paths
        "/static/ui/missing.js",
        "/static/test/vectors.js",
        "/static/../app/main.py",
        "/static/ui/%2e%2e/%2e%2e/app/main.py",
        "/static/ui/..%2f..%2fpyproject.toml",
        "/static/protocol/.hidden.js",
        "/static/vendor/playwright-core.mjs",
        "/static/vendor/..%2fpackage.json",
        "/static/node_modules/libsodium-sumo/package.json",
        "/static/data/passwords.txt",
        "/static/data/..%2fcommon-passphrases.txt",
    ],
)
def test_nothing_else_is_reachable(http: TestClient, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_published_asset_hashes_match_what_is_served(http: TestClient) -> None:
    """docs/web-assets.sha256 is what a release publishes; regenerate it with
    `backchannel-server web-hashes > docs/web-assets.sha256` whenever the client changes."""
    published = (Path(__file__).resolve().parent.parent / "docs" / "web-assets.sha256").read_text()
    assert published == asset_hashes()
    for line in published.splitlines():
        digest, url = line.split("  ")
        response = http.get(url)
        assert response.status_code == 200, url
        assert hashlib.sha256(response.content).hexdigest() == digest, url
