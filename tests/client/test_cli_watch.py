"""`backchannel watch` over a live server, and the CLI's "a former member" label."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from typer.testing import CliRunner, Result

from app.client.circles import Circles
from app.client.cli.main import app as cli
from app.client.deletion import delete_account
from app.client.entries import Entries
from app.client.live import Arrival, Gone, watch
from app.client.sdk import Client
from app.client.trust import TrustStore
from tests.conftest import World, passphrase_for, serving

POLL = 0.2


def run(server: str, home: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    environment = {"BACKCHANNEL_SERVER": server, "BACKCHANNEL_HOME": str(home)}
    environment.update(env or {})
    return CliRunner().invoke(cli, list(args), env=environment)


def _login(url: str, home: Path, who: str) -> None:
    env = {"BACKCHANNEL_PASSPHRASE": passphrase_for(who)}
    result = run(url, home, "login", who, "--json", env=env)
    assert result.exit_code == 0, result.output


def _post(world: World, subject: str) -> None:
    Entries(world.alice.circles).post(
        world.circle_id, subject=subject, text=f"about {subject}", categories=["harassment"]
    )


def test_watch_prints_each_new_warning_and_stops_on_removal(
    world: World, make_app: Any, tmp_path: Path
) -> None:
    worker: FastAPI = make_app(events_poll_seconds=POLL)
    with serving(worker) as url:
        home = tmp_path / "bob"
        _login(url, home, "bob")
        _post(world, "Before Watching")
        finished: dict[str, Result] = {}
        watcher = threading.Thread(
            target=lambda: finished.setdefault(
                "watch", run(url, home, "watch", str(world.circle_id))
            )
        )
        watcher.start()
        deadline = time.monotonic() + 20
        while not worker.state.event_streams.held:  # the stream is open
            assert time.monotonic() < deadline, "watch never connected"
            time.sleep(0.05)
        time.sleep(POLL * 5)  # and its baseline is taken
        _post(world, "Arrived Live")
        time.sleep(POLL * 10)
        world.alice.circles.remove(world.circle_id, "bob")
        watcher.join(timeout=20)
        assert not watcher.is_alive(), "watch did not stop when bob was removed"
    result = finished["watch"]
    assert result.exit_code == 1
    assert "Arrived Live" in result.stdout
    assert "Before Watching" not in result.stdout  # what was there is the baseline
    assert "by \u2068alice\u2069" in result.stdout  # one line, rendered through output.shown
    assert "[not_a_member] You are no longer a member of this circle." in result.output


def test_watch_exits_when_the_session_ends(world: World, make_app: Any, tmp_path: Path) -> None:
    worker: FastAPI = make_app(events_poll_seconds=POLL)
    with serving(worker) as url:
        home = tmp_path / "bob"
        _login(url, home, "bob")
        finished: dict[str, Result] = {}
        watcher = threading.Thread(
            target=lambda: finished.setdefault("watch", run(url, home, "watch"))
        )
        watcher.start()
        deadline = time.monotonic() + 20
        while not worker.state.event_streams.held:
            assert time.monotonic() < deadline, "watch never connected"
            time.sleep(0.05)
        # Bob ends every other session from another device: the watching one among them.
        world.bob.client.end_sessions(username="bob", passphrase=passphrase_for("bob"))
        watcher.join(timeout=20)
        assert not watcher.is_alive(), "watch did not stop when the session ended"
    result = finished["watch"]
    assert result.exit_code == 1
    assert "[session_ended]" in result.output


def test_read_shows_a_deleted_accounts_warning_as_a_former_members(
    world: World, live_server: str, tmp_path: Path
) -> None:
    Entries(world.carol.circles).post(
        world.circle_id, subject="Left Behind", text="kept", categories=["harassment"]
    )
    delete_account(world.carol.circles, passphrase=passphrase_for("carol"), warnings="keep")
    home = tmp_path / "bob"
    _login(live_server, home, "bob")
    result = run(live_server, home, "read", str(world.circle_id))
    assert result.exit_code == 0, result.output
    assert "Left Behind" in result.stdout
    assert "by a former member" in result.stdout
    assert "carol" not in result.stdout


def test_read_without_a_circle_counts_what_is_new_in_each(
    world: World, live_server: str, tmp_path: Path
) -> None:
    home = tmp_path / "bob"
    _login(live_server, home, "bob")
    _post(world, "First One")
    _post(world, "Second One")

    def counts() -> list[dict[str, Any]]:
        result = run(live_server, home, "read", "--json")
        assert result.exit_code == 0, result.output
        rows: list[dict[str, Any]] = json.loads(result.stdout.strip().splitlines()[-1])
        return rows

    assert [(r["circle_id"], r["new"]) for r in counts()] == [(str(world.circle_id), 2)]
    assert run(live_server, home, "read", str(world.circle_id)).exit_code == 0
    _post(world, "Third One")
    assert [r["new"] for r in counts()] == [1]
    table = run(live_server, home, "read")
    assert "New since your last read" in table.stdout


def test_the_sdk_watch_reconnects_and_misses_nothing(world: World, make_app: Any) -> None:
    """Streams that end (``end: reconnect`` every second here) are reopened; a warning
    posted across a reconnect still arrives, verified, exactly once."""
    worker: FastAPI = make_app(events_poll_seconds=POLL, events_max_seconds=1.0)
    with serving(worker) as url, Client(url, token=world.bob.client.token) as client:
        circles = Circles(
            client,
            username="bob",
            identity=world.bob.account.identity,
            trust=TrustStore.in_memory(),
        )
        retries: list[str] = []
        found: list[Arrival | Gone] = []

        def follow() -> None:
            for item in watch(
                Entries(circles),
                world.circle_id,
                sleep=lambda _: time.sleep(0.05),
                on_retry=lambda _, reason: retries.append(reason),
            ):
                found.append(item)
                return

        watcher = threading.Thread(target=follow)
        watcher.start()
        deadline = time.monotonic() + 20
        while "reconnect" not in retries:  # at least one stream ended and was reopened
            assert time.monotonic() < deadline, "the stream never ended"
            time.sleep(0.1)
        time.sleep(POLL * 3)
        _post(world, "Across A Reconnect")
        watcher.join(timeout=20)
        assert not watcher.is_alive()
    assert len(found) == 1 and isinstance(found[0], Arrival)
    assert [e.subject for e in found[0].entries] == ["Across A Reconnect"]


def test_ctrl_c_stops_watch_cleanly(world: World, live_server: str, tmp_path: Path) -> None:
    home = tmp_path / "bob"
    _login(live_server, home, "bob")
    env = {**os.environ, "BACKCHANNEL_SERVER": live_server, "BACKCHANNEL_HOME": str(home)}
    watcher = subprocess.Popen(
        [str(Path(sys.executable).with_name("backchannel")), "watch"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stderr is not None
        first = watcher.stderr.readline()  # "Watching every circle …" once it runs
        assert "Watching every circle" in first
        time.sleep(1.0)
        watcher.send_signal(signal.SIGINT)
        _, rest = watcher.communicate(timeout=20)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 0
    assert "Stopped." in rest
    assert "Traceback" not in rest


def test_a_malformed_gone_event_is_bad_event_and_every_reason_has_words() -> None:
    """A malicious server's ``gone`` event with a bad id or an unknown reason is refused as
    ``bad_event`` (it once raised a bare KeyError/ValueError in ``watch``), and each reason
    the client accepts has a sentence in the CLI."""
    import uuid as _uuid

    import pytest

    from app.client.cli.live import GONE
    from app.client.errors import ProtocolError
    from app.client.live import GONE_CODES, gone_event

    circle = _uuid.uuid4()
    assert gone_event({"circle_id": str(circle), "code": "circle_deleted"}) == (
        circle,
        "circle_deleted",
    )
    for hostile in (
        {"circle_id": "not-an-id", "code": "not_a_member"},
        {"code": "not_a_member"},
        {"circle_id": str(circle), "code": "[red]you were banned[/red]"},
        {"circle_id": str(circle), "code": None},
    ):
        with pytest.raises(ProtocolError) as caught:
            gone_event(hostile)
        assert caught.value.code == "bad_event"
    assert set(GONE) == set(GONE_CODES)
