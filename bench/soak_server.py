"""The soak's server: ``backchannel-server serve --workers N`` as a real process tree, and the
faults done to it (SIGKILL one worker, restart the whole server, restart PostgreSQL).

Its memory is the sum of the resident sets (``VmRSS`` in ``/proc``) of the server process and
every process under it (the workers, and multiprocessing's helper). Its access log is kept in
a file, so the oracle can count the answers of 500 and above the clients never saw.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SECRET = "soak-secret-key-that-is-long-enough-xxxxxxxx"
ACCESS = re.compile(rb'HTTP/1\.[01]" (\d{3})')


def server_env(database_url: str) -> dict[str, str]:
    """The server's settings for a soak: its own database, a cheap server-side hash of the
    client's auth key (the client's own Argon2id stays as deployed), no purge task, the
    smallest takedown proof of work, and room for the soak's accounts from one address."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "BACKCHANNEL_DATABASE_URL": database_url,
        "BACKCHANNEL_SECRET_KEY": SECRET,
        "BACKCHANNEL_SERVER_HASH_TIME_COST": "1",
        "BACKCHANNEL_SERVER_HASH_MEMORY_KIB": "1024",
        "BACKCHANNEL_PURGE_INTERVAL_SECONDS": "0",
        "BACKCHANNEL_TAKEDOWN_WORK": "1",
        "BACKCHANNEL_TAKEDOWN_CIRCLE_LOAD_STEP": "100000",
        "BACKCHANNEL_TAKEDOWN_SERVER_LOAD_STEP": "100000",
        "BACKCHANNEL_REGISTRATION_ADDRESS_LIMIT": "1000",
        "BACKCHANNEL_REGISTRATION_SERVER_LIMIT": "1000",
    }


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Server:
    """One server process tree on a fixed port, so the clients keep their base URL."""

    def __init__(self, database_url: str, port: int, workers: int, logs: Path) -> None:
        self.database_url = database_url
        self.port = port
        self.workers = workers
        self.logs = logs
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        found = shutil.which("backchannel-server", path=str(Path(sys.executable).parent))
        assert found, "backchannel-server is not installed in this environment (make install)"
        self.command = [found, "serve", "--host", "127.0.0.1", "--port", str(port)]
        self.command += ["--workers", str(workers)]

    def start(self, timeout: float = 60.0) -> None:
        assert self.process is None
        self.starts += 1
        log = (self.logs / f"server-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=server_env(self.database_url), stdout=log, stderr=log
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at startup:\n{self.log_tail()}")
            if len(self.worker_pids()) >= self.workers and self._healthy():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{self.log_tail()}")
            time.sleep(0.1)

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            for pid in self.pids():
                os.kill(pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> float:
        """Stop (SIGTERM: uvicorn drains what it holds) and start again; the seconds it took."""
        started = time.monotonic()
        self.stop()
        self.start()
        return time.monotonic() - started

    def pids(self) -> list[int]:
        """The server process and everything under it."""
        if self.process is None:
            return []
        tree = _children()
        out, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(tree.get(pid, []))
        return out

    def worker_pids(self) -> list[int]:
        return [
            pid
            for pid in self.pids()
            if "multiprocessing" in _cmdline(pid) and "resource_tracker" not in _cmdline(pid)
        ]

    def kill_worker(self) -> int:
        """SIGKILL one worker (uvicorn's supervisor starts another); its pid."""
        workers = self.worker_pids()
        assert workers, "no worker process to kill"
        os.kill(workers[0], signal.SIGKILL)
        return workers[0]

    def rss_mib(self) -> float:
        return sum(_rss_kib(pid) for pid in self.pids()) / 1024

    def server_errors(self) -> dict[int, int]:
        """Answers of 500 and above in the access logs, by status."""
        counts: dict[int, int] = {}
        for path in self.logs.glob("server-*.log"):
            for match in ACCESS.finditer(path.read_bytes()):
                status = int(match.group(1))
                if status >= 500:
                    counts[status] = counts.get(status, 0) + 1
        return counts

    def log_tail(self, lines: int = 40) -> str:
        paths = sorted(self.logs.glob("server-*.log"))
        text = paths[-1].read_text(errors="replace") if paths else ""
        return "\n".join(text.splitlines()[-lines:])


def restart_postgres() -> float:
    """Restart the machine's PostgreSQL cluster (the shared one: every database on it, not
    only the soak's, loses its connections); the seconds it took."""
    versions = sorted(os.listdir("/etc/postgresql"))
    started = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return time.monotonic() - started
