"""The package as operators and members install it: `python -m build`, then the wheel into fresh
virtual environments, run from an empty directory with no checkout in reach.

One server environment (`backchannel[server]`) migrates and serves; one client environment
(`backchannel` alone) has no server package at all and drives a member's story against it.
Built once per run, not once per engine: nothing here depends on the database (SQLite).
"""

import base64
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from uv import find_uv_bin

from app.migrate import SCHEMA_REVISIONS
from app.version import PACKAGE_VERSION

ROOT = Path(__file__).resolve().parent.parent
# What only the server needs: none may be importable in a client-only install (pydantic may:
# Typer needs it).
SERVER_MODULES = (
    "fastapi",
    "starlette",
    "pydantic_settings",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "argon2",
    "uvicorn",
)


def _run(*args: str | Path, **options: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(arg) for arg in args], capture_output=True, text=True, timeout=600, **options
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel, as `python -m build` makes them (the wheel from the sdist)."""
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--installer", "uv", "--outdir", out, ROOT, cwd=ROOT)
    return out


def _venv(where: Path, requirement: str) -> Path:
    """A fresh virtual environment with ``requirement`` (and its dependencies) installed."""
    uv = find_uv_bin()
    _run(uv, "venv", "--quiet", "--python", sys.executable, where)
    _run(uv, "pip", "install", "--quiet", "--python", where / "bin" / "python", requirement)
    return where / "bin"


class Installed:
    """Commands of one environment, run from ``workdir`` with a bare environment."""

    def __init__(self, bin_dir: Path, workdir: Path) -> None:
        self.bin_dir, self.workdir = bin_dir, workdir
        workdir.mkdir()

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "PATH": f"{self.bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin",
            "HOME": str(self.workdir),
            "LANG": "C.UTF-8",
            **extra,
        }

    def run(self, command: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin_dir / command), *args],
            cwd=self.workdir,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def ok(self, command: str, *args: str, **env: str) -> str:
        result = self.run(command, *args, **env)
        assert result.returncode == 0, f"{command} {args}\n{result.stdout}\n{result.stderr}"
        return result.stdout


@pytest.fixture(scope="module")
def server_env(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    [wheel] = dist.glob("*.whl")
    root = tmp_path_factory.mktemp("server")
    return Installed(_venv(root / "venv", f"{wheel}[server]"), root / "work")


@pytest.fixture(scope="module")
def client_env(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    [wheel] = dist.glob("*.whl")
    root = tmp_path_factory.mktemp("client")
    return Installed(_venv(root / "venv", str(wheel)), root / "work")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(server_env: Installed) -> Iterator[str]:
    """`migrate`, then `serve`, in an empty directory with the default settings."""
    assert list(server_env.workdir.iterdir()) == []
    assert server_env.ok("backchannel-server", "migrate") == "database is at the newest revision\n"
    port = _free_port()
    log = server_env.workdir / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(server_env.bin_dir / "backchannel-server"), "serve", "--port", str(port)],
            cwd=server_env.workdir,
            env=server_env.env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_sdist_builds_the_wheel_with_every_file_the_server_reads(dist: Path) -> None:
    [sdist] = dist.glob("*.tar.gz")
    [wheel] = dist.glob("*.whl")
    assert sdist.name == f"backchannel-{PACKAGE_VERSION}.tar.gz"
    assert wheel.name == f"backchannel-{PACKAGE_VERSION}-py3-none-any.whl"


def test_the_server_wheel_runs_without_a_checkout(server_env: Installed) -> None:
    located = server_env.ok("python", "-c", "import app, app.bundled; print(app.__file__)")
    assert Path(located.strip()).is_relative_to(server_env.bin_dir.parent)
    assert str(ROOT) not in located
    shown = server_env.ok("backchannel-server", "--version")
    assert f"backchannel-server {PACKAGE_VERSION} (HTTP API v1, protocol v1)" in shown
    assert f"{SCHEMA_REVISIONS.oldest} to {SCHEMA_REVISIONS.newest}" in shown


def test_the_installed_server_serves_the_published_web_client(served: str) -> None:
    """Every asset docs/web-assets.sha256 publishes, byte for byte, and the import map's hash."""
    page = httpx.get(f"{served}/")
    assert page.status_code == 200
    [import_map] = re.findall(r'<script type="importmap">(.*?)</script>', page.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(import_map.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in page.headers["content-security-policy"]
    published = (ROOT / "docs" / "web-assets.sha256").read_text().splitlines()
    for line in published:
        expected, path = line.split("  ")
        response = httpx.get(f"{served}{path}")
        assert response.status_code == 200, path
        assert hashlib.sha256(response.content).hexdigest() == expected, path


def test_a_client_only_install_drives_the_installed_server(
    served: str, client_env: Installed
) -> None:
    member = {
        "BACKCHANNEL_SERVER": served,
        "BACKCHANNEL_HOME": str(client_env.workdir / "alice"),
        "BACKCHANNEL_PASSPHRASE": "correct horse battery amber",
    }

    def cli(*args: str) -> Any:
        return json.loads(client_env.ok("backchannel", *args, "--json", **member).splitlines()[-1])

    assert cli("register", "alice")["username"] == "alice"
    circle_id = cli("circle", "create", "Film crews Berlin")["circle_id"]
    text = "Grabbed my arm after the shoot"
    cli("post", circle_id, "--subject", "Jan Novák", "--category", "harassment", "--text", text)
    [read] = cli("read", circle_id)
    assert (read["subject"], read["text"], read["author"]) == ("Jan Novák", text, "alice")


def test_a_client_only_install_has_no_server_packages(client_env: Installed) -> None:
    """Every module of the SDK, the CLI and the protocol imports without them."""
    shown = client_env.ok("backchannel", "--version")
    assert shown == f"backchannel {PACKAGE_VERSION} (HTTP API v1, protocol v1)\n"
    for name in SERVER_MODULES:
        refused = client_env.run("python", "-c", f"import {name}")
        assert refused.returncode == 1 and "ModuleNotFoundError" in refused.stderr, name
    client_env.ok(
        "python",
        "-c",
        "import importlib, pkgutil, app.client, app.crypto, app.version\n"
        "for package in (app.client, app.crypto):\n"
        "    for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(module.name)\n",
    )
    refused = client_env.run("backchannel-server", "migrate")
    assert refused.returncode == 2
    assert "pip install 'backchannel[server]'" in refused.stderr
    assert "Traceback" not in refused.stderr
