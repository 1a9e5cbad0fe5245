"""A small HTTP/1.1 keep-alive load generator: asyncio on uvloop, pre-built request bytes.

It runs in its own process (``start``), so its CPU use is the same whichever server it drives
and it never shares a GIL with the bench. Load is bounded twice: by time and by a request
count. Every response is read in full (``Content-Length``); a response without one is an error
of the bench, not of the server.
"""

import asyncio
import multiprocessing
import socket
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

_CONTEXT = multiprocessing.get_context("spawn")


@dataclass
class LoadResult:
    requests: int = 0
    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)  # seconds, per request
    cpu_per_request: float = 0.0  # the server's CPU seconds per answer, when measured

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    def percentile(self, p: float) -> float:
        xs = sorted(self.latencies)
        if not xs:
            return float("nan")
        return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def request_bytes(
    method: str, path: str, *, token: str | None = None, body: bytes | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Accept: application/json"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


async def _connection(
    port: int,
    requests: list[bytes],
    offset: int,
    stride: int,
    deadline: float,
    budget: list[int],
    result: LoadResult,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    i = offset
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            started = time.perf_counter()
            writer.write(requests[i % len(requests)])
            i += stride
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            lowered = head.lower()
            at = lowered.find(b"\r\ncontent-length:")
            if at < 0:
                raise RuntimeError("response without Content-Length")
            end = lowered.index(b"\r\n", at + 2)
            await reader.readexactly(int(lowered[at + 17 : end]))
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            result.requests += 1
    finally:
        writer.close()


async def _load(
    port: int, requests: list[bytes], connections: int, seconds: float, max_requests: int
) -> LoadResult:
    result = LoadResult()
    budget = [max_requests]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _connection(port, requests, k, connections, deadline, budget, result)
            for k in range(connections)
        )
    )
    result.seconds = time.perf_counter() - started
    return result


def run(
    port: int, requests: list[bytes], connections: int, seconds: float, max_requests: int
) -> LoadResult:
    """Drive ``connections`` keep-alive connections for ``seconds`` or ``max_requests``, cycling
    through ``requests`` (each request is sent once per cycle across all connections)."""
    import uvloop

    return uvloop.run(_load(port, requests, connections, seconds, max_requests))


class Generator:
    """One load-generator process, reused for every measurement of a bench run."""

    def __init__(self) -> None:
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=_CONTEXT)

    def start(
        self,
        port: int,
        requests: list[bytes],
        *,
        connections: int,
        seconds: float,
        max_requests: int,
    ) -> "Future[LoadResult]":
        return self._pool.submit(run, port, requests, connections, seconds, max_requests)

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


def idle_then_flooded(
    gen: Generator,
    flood: Generator,
    port: int,
    probe: list[bytes],
    flood_requests: list[bytes],
    *,
    seconds: float,
    flood_clients: int,
) -> tuple[LoadResult, LoadResult, LoadResult]:
    """The probe one request at a time for ``seconds`` on a quiet server, then again while
    ``flood_clients`` connections send ``flood_requests`` (started a second before the probe
    and outlasting it): (idle, busy, the flood's own result)."""
    idle = gen.start(port, probe, connections=1, seconds=seconds, max_requests=10**6).result()
    hammer = flood.start(
        port,
        flood_requests,
        connections=flood_clients,
        seconds=seconds + 2.0,
        max_requests=10**6,
    )
    time.sleep(1.0)  # the flood is running
    busy = gen.start(port, probe, connections=1, seconds=seconds, max_requests=10**6).result()
    return idle, busy, hammer.result()
