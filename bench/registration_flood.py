"""A login's latency while 50 clients flood the registration endpoint, as ratios in one run.

Run from the repository root::

    .venv/bin/python -m bench.registration_flood                  # both engines, 1 worker
    .venv/bin/python -m bench.registration_flood --engines sqlite --rounds 3
    .venv/bin/python -m bench.registration_flood --app-root /tmp/old-checkout   # code before

Goal (issue 13, item 4): a login's p99 during a 50-client registration flood stays within 2x
of its idle p99.

The server is a uvicorn child process started with ``app.cli.uvicorn_options`` (what
``backchannel-server serve`` uses) and the production Argon2 parameters, on a fresh migrated
database. The flood is the worst case the limits allow: every registration comes from its own
address (the server trusts ``X-Forwarded-For`` from loopback for this run, and each flood
request names another address) and the per-address and server-wide windows are raised past
anything the run can fill, so every registration does its two Argon2 hashes; with the default
limits the flood would be cut off after 200 accounts an hour and cost almost nothing. Each
registration body is distinct (a new name, new keys), made before the run.

Each round times alice's login (the real auth key, one request at a time) while idle, then
while 50 keep-alive connections send registrations; the ratio is busy p99 over idle p99, and
the reported ratio is the median over rounds, so load from outside the bench falls on both
halves of each ratio. ``--app-root`` serves the app from another checkout (the code before the
change) with the same bench.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app.client.sdk import Client
from app.crypto import AccountKeys, IdentityKeys, KdfParams, b64decode, b64encode
from bench.common import fresh_database, usable_engines
from bench.entries_sync import free_port
from bench.loadgen import Generator, idle_then_flooded, request_bytes

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-registration-flood-secret-key-long-x"
PASSPHRASE = "flood horse battery staple"
GOAL = 2.0


# The server runs from ``--app-root`` (this checkout or another), so it is started from a
# snippet that imports only that checkout's ``app``.
SERVE = """
import sys, uvicorn
from app.cli import uvicorn_options
options = uvicorn_options(host="127.0.0.1", port=int(sys.argv[1]), workers=int(sys.argv[2]))
options["log_config"] = None
uvicorn.run("app.main:create_app", **options)
"""


@dataclass
class Server:
    port: int
    child: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.child.terminate()
        try:
            self.child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()


def start(workers: int, env: dict[str, str], app_root: Path) -> Server:
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port), str(workers)],
        cwd=app_root,
        env={**os.environ, **env, "PYTHONPATH": str(app_root)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return Server(port, child)
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or child.poll() is not None:
            child.kill()
            raise RuntimeError("the server did not start")
        time.sleep(0.1)


def login_body(base_url: str) -> bytes:
    """Register alice and return her login request (the auth key derived once, here)."""
    with httpx.Client(timeout=60) as http:
        Client(base_url, http=http).register("alice", PASSPHRASE)
        params = http.get(f"{base_url}/v1/auth/params", params={"username": "alice"}).json()
    kdf = KdfParams(opslimit=int(params["opslimit"]), memlimit=int(params["memlimit"]))
    keys = AccountKeys.from_passphrase(PASSPHRASE, b64decode(params["salt"]), kdf)
    return json.dumps({"username": "alice", "auth_key": b64encode(keys.auth_key)}).encode()


def flood_requests(count: int, kdf: dict[str, Any]) -> list[bytes]:
    """Distinct, valid registrations, each from its own address (X-Forwarded-For)."""
    requests = []
    for n in range(count):
        identity = IdentityKeys.generate().public()
        body = json.dumps(
            {
                "username": f"flood{n:06d}",
                "kdf": {**kdf, "salt": b64encode(os.urandom(16))},
                "auth_key": b64encode(os.urandom(32)),
                "identity": {
                    "x25519_public": b64encode(identity.x25519_public),
                    "ed25519_public": b64encode(identity.ed25519_public),
                    "x25519_signature": b64encode(identity.x25519_signature),
                },
                "key_bundle": b64encode(b"\x01" + os.urandom(104)),
                "recovery": {
                    "auth_key": b64encode(os.urandom(32)),
                    "key_bundle": b64encode(b"\x01" + os.urandom(104)),
                },
            }
        ).encode()
        raw = request_bytes("POST", "/v1/auth/register", body=body)
        head, rest = raw.split(b"\r\n", 1)
        forwarded = f"X-Forwarded-For: 10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}\r\n"
        requests.append(head + b"\r\n" + forwarded.encode() + rest)
    return requests


@dataclass
class Cell:
    engine: str
    workers: int
    rounds: list[dict[str, Any]] = field(default_factory=list)

    def median(self, key: str) -> float:
        return statistics.median(r[key] for r in self.rounds)


def measure(
    engine: str, workers: int, args: argparse.Namespace, gen: Generator, flood: Generator
) -> Cell:
    cell = Cell(engine, workers)
    with fresh_database(engine, tag=f"_rf{workers}") as url:
        env = {
            "BACKCHANNEL_DATABASE_URL": url,
            "BACKCHANNEL_SECRET_KEY": SECRET,
            "BACKCHANNEL_TRUSTED_PROXIES": "127.0.0.1",
            "BACKCHANNEL_REGISTRATION_ADDRESS_LIMIT": "1000000",
            "BACKCHANNEL_REGISTRATION_SERVER_LIMIT": "1000000",
            "BACKCHANNEL_PURGE_INTERVAL_SECONDS": "0",
        }
        server = start(workers, env, Path(args.app_root).resolve())
        try:
            base = f"http://127.0.0.1:{server.port}"
            login = [request_bytes("POST", "/v1/auth/login", body=login_body(base))]
            params = httpx.get(f"{base}/v1/auth/params", params={"username": "newcomer"}).json()
            kdf = {k: params[k] for k in ("algorithm", "opslimit", "memlimit")}
            registrations = flood_requests(args.flood_requests, kdf)
            share = len(registrations) // args.rounds  # each round its own, unused names
            for r in range(args.rounds):
                batch = registrations[r * share : (r + 1) * share]
                idle, busy, flooded = idle_then_flooded(
                    gen,
                    flood,
                    server.port,
                    login,
                    batch,
                    seconds=args.seconds,
                    flood_clients=args.flood_clients,
                )
                if idle.ok() != idle.requests or busy.ok() != busy.requests:
                    raise RuntimeError(f"logins failed: {idle.statuses} {busy.statuses}")
                if 409 in flooded.statuses:  # loadgen cycled past its share: names repeat
                    raise RuntimeError("the flood reused names: raise --flood-requests")
                row = {
                    "idle_p50": idle.percentile(50),
                    "idle_p99": idle.percentile(99),
                    "busy_p50": busy.percentile(50),
                    "busy_p99": busy.percentile(99),
                    "ratio": busy.percentile(99) / idle.percentile(99),
                    "logins": busy.requests,
                    "registrations_per_second": flooded.statuses.get(201, 0) / flooded.seconds,
                    "flood_statuses": dict(flooded.statuses),
                }
                cell.rounds.append(row)
                print(
                    f"  {engine} workers={workers} round {r + 1}: login p99 "
                    f"{row['busy_p99'] * 1e3:.1f} / {row['idle_p99'] * 1e3:.1f} ms = "
                    f"{row['ratio']:.2f} (p50 {row['busy_p50'] * 1e3:.1f} / "
                    f"{row['idle_p50'] * 1e3:.1f}; {busy.requests} logins; flood "
                    f"{row['registrations_per_second']:.1f} accounts/s {flooded.statuses})",
                    flush=True,
                )
        finally:
            server.stop()
    return cell


def report(cells: list[Cell], args: argparse.Namespace) -> str:
    lines = [
        f"bench.registration_flood: {args.rounds} rounds x {args.seconds:.0f} s, "
        f"{args.flood_clients} flood clients; Python {platform.python_version()}, "
        f"load avg {os.getloadavg()[0]:.1f}; app from {args.app_root}",
        "",
        "| engine | workers | login p50 idle / flood (ms) | login p99 idle / flood (ms) "
        f"| **p99 ratio** (goal <= {GOAL:g}) | accounts made/s during the flood |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for c in cells:
        ratio = c.median("ratio")
        lines.append(
            f"| {c.engine} | {c.workers} "
            f"| {c.median('idle_p50') * 1e3:.1f} / {c.median('busy_p50') * 1e3:.1f} "
            f"| {c.median('idle_p99') * 1e3:.1f} / {c.median('busy_p99') * 1e3:.1f} "
            f"| **{ratio:.2f}** {'met' if ratio <= GOAL else 'NOT met'} "
            f"| {c.median('registrations_per_second'):.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--flood-clients", type=int, default=50)
    parser.add_argument("--flood-requests", type=int, default=3000)
    parser.add_argument("--app-root", default=str(ROOT), help="serve the app from this checkout")
    parser.add_argument("--json", help="also write the per-round figures here")
    args = parser.parse_args(argv)
    engines = usable_engines(args.engines)
    gen, flood = Generator(), Generator()
    cells: list[Cell] = []
    try:
        for engine in engines:
            for workers in [int(w) for w in args.workers.split(",")]:
                cells.append(measure(engine, workers, args, gen, flood))
    finally:
        gen.close()
        flood.close()
    text = report(cells, args)
    print()
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps([c.__dict__ for c in cells], indent=1))
    return 0 if all(c.median("ratio") <= GOAL for c in cells) else 1


if __name__ == "__main__":
    sys.exit(main())
