"""`moderation list` with 100 and with 10,000 cases in a circle (issue 14 item 4).

Run from the repository root::

    .venv/bin/python -m bench.moderation_list                      # SQLite and PostgreSQL (if up)
    .venv/bin/python -m bench.moderation_list --engines sqlite --requests 50

Target: a page at 10,000 cases costs at most 1.2x what it costs at 100.

What is measured (docs/benchmarks.md has the method and the numbers):

* the real app (``create_app``) on a freshly migrated database, called in-process through
  Starlette's TestClient (routing, authentication, the admin check, the service, JSON);
* alice (owner, so an admin) and bob register through the API (real Argon2id); in each of two
  circles alice posts ``REAL`` warnings and bob reports each one through the SDK (real
  sealing), so every case on a first page is a real one. The circle is then filled with SQL
  to its size (setup, not timed) with older cases: takedown-shaped rows, 90 % decided
  (dismissed) and 10 % still open, the mix a flooded circle accumulates;
* per circle, ``--requests`` times each, interleaved: the first page of every case
  (``GET …/moderation/cases``, 50 cases), the first page of open cases (``status=open``), a
  page from the middle of the history (``cursor`` of the case half-way down), and the SDK's
  ``cases_page`` (the first page fetched, each case opened and verified, as ``backchannel
  moderation list`` does); medians and p90 in milliseconds, and the ratio of the big
  circle's median to the small one's.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.client.cases import cases_page
from app.client.circles import Circles
from app.client.entries import Entries
from app.client.moderation import Moderation
from app.client.sdk import Client
from app.client.trust import TrustStore
from app.main import create_app
from app.moderation.models import Case
from app.moderation.service import page_cursor
from app.settings import Settings
from bench.common import fresh_database, usable_engines

GOAL = 1.2
REAL = 55  # real reports per circle: more than a page of 50
MIDDLE = 20  # cases on the page read from the middle of the history


def _fill(session: Session, circle_id: uuid.UUID, count: int, before: datetime) -> Case:
    """``count`` older cases, one a second before ``before``; returns one half-way down
    (with at least ``MIDDLE`` after it)."""
    rows = []
    for n in range(count):
        made = before - timedelta(seconds=n + 1)
        rows.append(
            {
                "id": uuid.uuid4(),
                "circle_id": circle_id,
                "kind": "takedown",
                "entry_id": None,
                "reporter_id": None,
                "generation": 0,
                "ciphertext": secrets.token_bytes(600),
                "case_hash": secrets.token_bytes(32),
                "receipt_key": secrets.token_bytes(32),
                "receipt_token_hash": secrets.token_bytes(32),
                "status": "open" if n % 10 == 0 else "dismissed",
                "decision_seq": 0 if n % 10 == 0 else 1,
                "created_at": made,
                "updated_at": made,
            }
        )
    for start in range(0, len(rows), 2000):
        session.execute(insert(Case), rows[start : start + 2000])
    session.commit()
    middle = session.get(Case, rows[min(len(rows) // 2, len(rows) - MIDDLE - 1)]["id"])
    assert middle is not None
    return middle


def run(engine_name: str, small: int, big: int, requests: int) -> bool:
    with fresh_database(engine_name) as url:
        settings = Settings(
            database_url=url,
            secret_key="bench-secret-key-that-is-long-enough-for-this",  # type: ignore[arg-type]
            server_hash_time_cost=1,
            server_hash_memory_kib=1024,
        )
        app = create_app(settings)
        with TestClient(app, base_url="http://testserver") as http:
            people = {}
            for name, passphrase in (
                ("alice", "correct horse battery amber"),
                ("bob", "staple paperclip river bend"),
            ):
                client = Client("http://testserver", http=http)
                account = client.register(name, passphrase)
                circles = Circles(
                    client, username=name, identity=account.identity, trust=TrustStore.in_memory()
                )
                people[name] = (client, account, circles)
            alice, bob = people["alice"][2], people["bob"][2]
            sizes = {"small": small, "big": big}
            ids: dict[str, uuid.UUID] = {}
            cursors: dict[str, str] = {}
            started = time.perf_counter()
            for name, size in sizes.items():
                cid = alice.create(f"bench {name}").circle_id
                ids[name] = cid
                Moderation(alice).ensure_key(cid)  # the first admin sets moderation up
                invite, _ = alice.create_invite(cid, role="member")
                bob.join(str(invite))
                alice.confirm(cid, "bob", fingerprint=str(people["bob"][1].fingerprint))
                posted = [
                    Entries(alice).post(
                        cid, subject=f"Person {n}", text="He did it", categories=["harassment"]
                    )
                    for n in range(REAL)
                ]
                reporter = Moderation(bob)
                for entry in posted:
                    reporter.report(cid, entry["entry_id"], reason="false", note="not so")
                with Session(app.state.engine) as session:
                    oldest = datetime.now(UTC) - timedelta(days=1)
                    middle = _fill(session, cid, size - REAL, oldest)
                    cursors[name] = page_cursor(middle)
            print(
                f"  {engine_name}: circles of {small:,} and {big:,} cases in "
                f"{time.perf_counter() - started:.1f} s (setup)"
            )
            headers = {"Authorization": f"Bearer {people['alice'][0].token}"}
            admin = Moderation(alice)
            timings: dict[tuple[str, str], list[float]] = {}

            def get(cid: uuid.UUID, params: dict[str, object]) -> None:
                response = http.get(
                    f"/v1/circles/{cid}/moderation/cases", params=params, headers=headers
                )
                assert response.status_code == 200, response.text
                assert len(response.json()["cases"]) == params.get("limit", 50)

            def sdk(cid: uuid.UUID) -> None:
                page = cases_page(admin, cid)
                assert len(page.cases) == 50 and not any("unreadable" in c for c in page.cases)

            for _ in range(3):  # warm-up
                for name in sizes:
                    get(ids[name], {})
                    sdk(ids[name])
            for _ in range(requests):
                for name in sizes:
                    cid = ids[name]
                    calls: tuple[tuple[str, dict[str, object] | None], ...] = (
                        ("all", {}),
                        ("open", {"status": "open"}),
                        ("middle", {"cursor": cursors[name], "limit": MIDDLE}),
                        ("sdk page", None),
                    )
                    for kind, params in calls:
                        begun = time.perf_counter()
                        if params is None:
                            sdk(cid)
                        else:
                            get(cid, params)
                        timings.setdefault((name, kind), []).append(
                            (time.perf_counter() - begun) * 1000
                        )
        app.state.engine.dispose()
    met = True
    print(f"  {engine_name}: median / p90 ms over {requests} requests each (a page of 50)")
    for kind in ("all", "open", "middle", "sdk page"):
        small_t, big_t = timings[("small", kind)], timings[("big", kind)]
        ratio = statistics.median(big_t) / statistics.median(small_t)
        ok = ratio <= GOAL
        met = met and ok
        print(
            f"    {kind:9} {small:>7,}: {statistics.median(small_t):7.2f} / "
            f"{statistics.quantiles(small_t, n=10)[-1]:7.2f}   {big:>7,}: "
            f"{statistics.median(big_t):7.2f} / {statistics.quantiles(big_t, n=10)[-1]:7.2f}"
            f"   ratio {ratio:.2f} ({'met' if ok else 'NOT met'}: <= {GOAL})"
        )
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--big", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    ok = True
    for engine_name in usable_engines(args.engines):
        ok = run(engine_name, args.small, args.big, args.requests) and ok
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
