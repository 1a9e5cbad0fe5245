"""`backchannel-server`: refuses public addresses with the development secret; bounds the
connections in flight."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.settings import Settings, is_loopback


def test_serve_refuses_a_public_host_with_the_development_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BACKCHANNEL_SECRET_KEY", raising=False)
    assert Settings().uses_development_secret
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "8999"])
    assert result.exit_code == 2
    assert "development secret" in result.output


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert (
        not is_loopback("0.0.0.0")
        and not is_loopback("10.0.0.1")
        and not is_loopback("example.org")
    )


def test_migrate_command_upgrades_the_configured_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    monkeypatch.setenv("BACKCHANNEL_DATABASE_URL", url)
    result = CliRunner().invoke(cli, ["migrate"])
    assert result.exit_code == 0, result.output
    from sqlalchemy import inspect

    from app.db import make_engine

    engine = make_engine(url)
    assert "users" in inspect(engine).get_table_names()
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _get(conn: socket.socket) -> bytes:
    """One keep-alive GET /healthz on ``conn``; the status line."""
    conn.sendall(b"GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n")
    return conn.recv(65536).split(b"\r\n", 1)[0]


def _get_once(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        return _get(conn)


def test_serve_bounds_the_connections_in_flight(tmp_path: Path) -> None:
    """`serve` passes BACKCHANNEL_MAX_CONCURRENCY to uvicorn: past it, a worker answers 503
    instead of opening one more connection (and one more pooled SQLite connection)."""
    url = f"sqlite:///{tmp_path}/bound.db"
    env = {**os.environ, "BACKCHANNEL_DATABASE_URL": url, "BACKCHANNEL_MAX_CONCURRENCY": "3"}
    env["BACKCHANNEL_EVENTS_MAX_STREAMS"] = "1"
    assert CliRunner().invoke(cli, ["migrate"], env=env).exit_code == 0
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "backchannel-server"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    held: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert _get_once(port).endswith(b"200 OK")
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.2)
        time.sleep(0.5)  # the probes' connections closed
        # uvicorn counts the connection asking: with a bound of 3, two are held open...
        for _ in range(2):
            held.append(socket.create_connection(("127.0.0.1", port), timeout=10))
            assert _get(held[-1]).endswith(b"200 OK")
        # ...and a third is refused until one of them closes.
        assert _get_once(port).endswith(b"503 Service Unavailable")
        held.pop().close()
        time.sleep(0.5)
        assert _get_once(port).endswith(b"200 OK")
    finally:
        for conn in held:
            conn.close()
        server.terminate()
        server.wait(timeout=30)


def test_the_concurrency_bound_leaves_room_beside_event_streams(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BACKCHANNEL_MAX_CONCURRENCY", "200")
    with pytest.raises(ValueError, match="max_concurrency"):
        Settings()
    monkeypatch.setenv("BACKCHANNEL_EVENTS_MAX_STREAMS", "199")
    assert Settings().max_concurrency == 200


def test_help_at_80_columns_flows_and_names_no_python_types() -> None:
    """``backchannel-server --help`` as the client's: placeholders, not ``<bool>``, and each
    command's sentence flowing across its lines, not broken where the docstring was."""
    shown = CliRunner().invoke(cli, ["--help"], env={"COLUMNS": "80", "TERM": "xterm"})
    assert shown.exit_code == 0
    assert "<bool>" not in shown.output and "<str>" not in shown.output
    rows = [line.strip("│ ") for line in shown.output.splitlines()]
    start = next(i for i, row in enumerate(rows) if row.startswith("web-hashes "))
    assert rows[start + 1].startswith("(docs/web-assets.sha256); with --release-key, the")
    assert all(len(line) <= 80 for line in shown.output.splitlines())
