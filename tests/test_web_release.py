"""Signed web releases (docs/protocol.md §35) on the server's side and the release side: the
release command signs exactly what the server serves, the server only serves the file it is
given (and refuses to start with one that lists other files), and the page's CSP, its
Subresource Integrity and the worker's manifest name the same SHA-256s."""

import base64
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli as server_cli
from app.client.cli import context as cli_context
from app.client.cli.main import app as member_cli
from app.crypto import CryptoError, b64encode
from app.crypto.errors import UntrustedSigner
from app.crypto.release import ReleasePin, SignedRelease, check_release
from app.web import (
    WORKER,
    ReleaseMismatch,
    asset_digests,
    content_security_policy,
    entry_paths,
    security_headers,
)


@pytest.fixture
def release_dir(tmp_path: Path) -> Path:
    """Where releases are cut: a release key A, a successor B, and their files."""
    for name in ("a", "b"):
        result = CliRunner().invoke(
            server_cli, ["release-key", "new", str(tmp_path / f"{name}.key")]
        )
        assert result.exit_code == 0, result.output
    return tmp_path


def cut(directory: Path, key: str, release: int, *rotations: str) -> Path:
    output = directory / f"release-{release}.json"
    args = ["web-hashes", "--release-key", str(directory / f"{key}.key")]
    args += ["--release", str(release), "--output", str(output)]
    for rotation in rotations:
        args += ["--rotation", str(directory / rotation)]
    result = CliRunner().invoke(server_cli, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["release"] == release
    return output


@pytest.fixture
def released(release_dir: Path, make_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    app = make_app(web_release=cut(release_dir, "a", 1))
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def test_release_key_files_are_private_and_never_overwritten(release_dir: Path) -> None:
    key = release_dir / "a.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    again = CliRunner().invoke(server_cli, ["release-key", "new", str(key)])
    assert again.exit_code == 1
    assert "never overwritten" in again.output
    shown = CliRunner().invoke(server_cli, ["release-key", "show", str(key)])
    assert shown.exit_code == 0 and "fingerprint" in shown.output


def test_a_signed_release_lists_every_asset_the_server_serves(release_dir: Path) -> None:
    signed = SignedRelease.parse(cut(release_dir, "a", 7).read_bytes())
    assert signed.manifest.release == 7
    assert dict(signed.manifest.assets) == asset_digests()
    assert {"/", "/sw.js", "/static/ui/app.js", "/static/vendor/libsodium-sumo.mjs"} <= set(
        signed.manifest.assets
    )
    assert set(entry_paths()) <= set(signed.manifest.assets)


def test_signing_needs_a_number_and_an_output(release_dir: Path) -> None:
    key = str(release_dir / "a.key")
    result = CliRunner().invoke(server_cli, ["web-hashes", "--release-key", key])
    assert result.exit_code == 2
    result = CliRunner().invoke(server_cli, ["web-hashes", "--release", "3"])
    assert result.exit_code == 2


def test_a_new_key_is_followed_only_with_the_old_keys_statement(release_dir: Path) -> None:
    first = SignedRelease.parse(cut(release_dir, "a", 1).read_bytes())
    pin = ReleasePin.of(first)
    unvouched = SignedRelease.parse(cut(release_dir, "b", 2).read_bytes())
    with pytest.raises(UntrustedSigner):
        check_release(unvouched, pin)
    old, new, output = (str(release_dir / name) for name in ("a.key", "b.key", "ab.json"))
    statement = CliRunner().invoke(
        server_cli, ["release-key", "rotate", "--from", old, "--to", new, "--output", output]
    )
    assert statement.exit_code == 0, statement.output
    handed_over = SignedRelease.parse(cut(release_dir, "b", 3, "ab.json").read_bytes())
    assert check_release(handed_over, pin).key == handed_over.manifest.key


def test_the_server_serves_the_release_file_it_was_given(
    released: TestClient, release_dir: Path
) -> None:
    response = released.get("/web-release.json")
    assert response.status_code == 200
    assert response.content == (release_dir / "release-1.json").read_bytes()
    assert response.headers["content-type"] == "application/json"
    assert "content-security-policy" in response.headers


def test_without_a_release_the_file_is_not_found(http: TestClient) -> None:
    response = http.get("/web-release.json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "release_not_published"


def test_the_server_refuses_a_release_of_other_files(
    release_dir: Path, make_app: Callable[..., FastAPI]
) -> None:
    path = cut(release_dir, "a", 1)
    data = json.loads(path.read_bytes())
    data["manifest"]["assets"]["/static/ui/app.js"] = "0" * 64
    # Re-signed by the same key, so only the listed files are wrong.
    from app.crypto.release import Manifest, sign_release
    from app.web_release import read_release_key

    manifest = Manifest.from_json(data["manifest"])
    other = sign_release(
        read_release_key(release_dir / "a.key"),
        release=2,
        version="0.0.1",
        assets=manifest.assets,
    )
    (release_dir / "other.json").write_bytes(other.to_bytes())
    with pytest.raises(ReleaseMismatch, match=r"/static/ui/app\.js"):
        make_app(web_release=release_dir / "other.json")
    tampered = path.read_text().replace('"release":1', '"release":9')
    (release_dir / "tampered.json").write_text(tampered)
    with pytest.raises(CryptoError):
        make_app(web_release=release_dir / "tampered.json")


def test_serve_refuses_to_start_with_a_release_of_other_files(
    release_dir: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    (release_dir / "junk.json").write_text("{}")
    monkeypatch.setenv("BACKCHANNEL_DATABASE_URL", database_url)
    monkeypatch.setenv("BACKCHANNEL_WEB_RELEASE", str(release_dir / "junk.json"))
    result = CliRunner().invoke(server_cli, ["serve", "--port", "8997"])
    assert result.exit_code == 2
    assert "BACKCHANNEL_WEB_RELEASE" in result.output


def test_the_worker_is_served_at_the_root(http: TestClient) -> None:
    response = http.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.content == WORKER.read_bytes()


def test_csp_sri_and_the_manifest_name_the_same_hashes(
    released: TestClient, release_dir: Path
) -> None:
    manifest = SignedRelease.parse((release_dir / "release-1.json").read_bytes()).manifest

    def sri(path: str) -> str:
        return "sha256-" + base64.b64encode(bytes.fromhex(manifest.assets[path])).decode()

    for entry in entry_paths():
        page = released.get(entry)
        assert sri(entry) == "sha256-" + b64encode(hashlib.sha256(page.content).digest())
        tags = re.findall(
            r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"[^>]*?integrity="([^"]+)"', page.text
        )
        assert ("/static/ui/app.js", sri("/static/ui/app.js")) in tags
        assert ("/static/ui/styles.css", sri("/static/ui/styles.css")) in tags
        assert all(value == sri(path) for path, value in tags)
        [import_map] = re.findall(r'<script type="importmap">(.*?)</script>', page.text, re.DOTALL)
        integrity = json.loads(import_map)["integrity"]
        modules = {path for path in manifest.assets if path.endswith((".js", ".mjs"))}
        assert set(integrity) == modules - {"/sw.js"}
        assert all(value == sri(path) for path, value in integrity.items())
        digest = base64.b64encode(hashlib.sha256(import_map.encode()).digest()).decode()
        assert page.headers["content-security-policy"] == content_security_policy((digest,))


def test_the_worker_sends_the_servers_policy() -> None:
    """The worker serves checked pages with its own headers; its policy is the server's."""
    source = WORKER.read_text()
    [policy] = re.findall(r"const POLICY =\s*((?:\"[^\"]*\"\s*\+?\s*)+);", source)
    text = "".join(re.findall(r'"([^"]*)"', policy))
    assert text == content_security_policy()


def test_the_worker_sends_every_security_header_the_server_sends() -> None:
    """Its pages must not lose the server's other headers either: without
    Cross-Origin-Opener-Policy, a page that opened Backchannel in a new window keeps a
    handle on it (it can navigate it away, count its frames)."""
    source = WORKER.read_text()
    [block] = re.findall(r"const HEADERS = \{(.*?)\};", source, re.DOTALL)
    sent = dict(re.findall(r'"([A-Za-z-]+)": "([^"]*)"', block))
    expected = security_headers(content_security_policy())
    del expected["Content-Security-Policy"]  # per page, above
    assert sent == expected


# -- `backchannel web verify` ----------------------------------------------------------------


class Swapping(httpx.BaseTransport):
    """The real app behind a transport that serves other bytes for some paths."""

    def __init__(self, inner: httpx.BaseTransport, swaps: dict[str, bytes]) -> None:
        self.inner, self.swaps = inner, swaps

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path in self.swaps:
            return httpx.Response(200, content=self.swaps[request.url.path], request=request)
        return self.inner.handle_request(request)


@pytest.fixture
def verify(released: TestClient) -> Iterator[Callable[..., tuple[int, dict[str, object]]]]:
    swaps: dict[str, bytes] = {}

    def factory(url: str) -> httpx.Client:
        return httpx.Client(transport=Swapping(released._transport, swaps))

    def run(*args: str, swap: dict[str, bytes] | None = None) -> tuple[int, dict[str, object]]:
        swaps.clear()
        swaps.update(swap or {})
        result = CliRunner().invoke(
            member_cli, ["web", "verify", "http://testserver", *args, "--json"]
        )
        lines = result.stdout.strip().splitlines()
        return result.exit_code, json.loads(lines[0]) if lines else {}

    cli_context.state.http_factory = factory
    try:
        yield run
    finally:
        cli_context.state.http_factory = None


def test_web_verify_passes_a_server_that_serves_the_release(
    verify: Callable[..., tuple[int, dict[str, object]]], release_dir: Path
) -> None:
    code, result = verify("--manifest", str(release_dir / "release-1.json"))
    assert code == 0, result
    assert result["ok"] is True and result["checked"] == len(asset_digests())
    public = CliRunner().invoke(server_cli, ["release-key", "show", str(release_dir / "a.key")])
    key = public.output.split()[2]
    code, result = verify("--key", key)
    assert code == 0, result


def test_web_verify_catches_a_swapped_an_added_and_an_older_release(
    verify: Callable[..., tuple[int, dict[str, object]]], release_dir: Path
) -> None:
    manifest = str(release_dir / "release-1.json")
    code, result = verify("--manifest", manifest, swap={"/static/ui/dom.js": b"steal();\n"})
    assert code == 1
    assert [d["path"] for d in result["differences"]] == ["/static/ui/dom.js"]  # type: ignore[index]
    page = b'<!doctype html><script type="module" src="/static/ui/extra.js"></script>'
    code, result = verify("--manifest", manifest, swap={"/": page})
    assert code == 1
    assert [d["path"] for d in result["differences"]] == ["/"]  # type: ignore[index]
    older = cut(release_dir, "a", 2)
    code, result = verify("--manifest", str(older))
    assert code == 1
    assert [d["path"] for d in result["differences"]] == ["/web-release.json"]  # type: ignore[index]


def test_web_verify_refuses_a_release_by_another_key(
    verify: Callable[..., tuple[int, dict[str, object]]], release_dir: Path
) -> None:
    public = CliRunner().invoke(server_cli, ["release-key", "show", str(release_dir / "b.key")])
    code, result = verify("--key", public.output.split()[2])
    assert code == 2
    assert result["error"] == "UntrustedSigner"
    code, _ = verify()
    assert code == 2
