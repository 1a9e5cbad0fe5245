"""The VOPRF's cost (app/crypto/voprf.py) next to the client's cost of a normal warning.

Run from the repository root::

    .venv/bin/python -m bench.voprf                  # 9 rounds, batches of 1, 21 and 64
    .venv/bin/python -m bench.voprf --rounds 3 --batches 1

The sealed-warnings issue asks that filing a sealed warning, with one VOPRF round trip and
its proof check, cost at most 2x posting a normal warning; ``bench.sealed`` measures that end
to end. This bench breaks down what the VOPRF itself adds:

* ``seal`` — the client's cryptography for a normal warning: ``app.crypto.entries.seal`` of a
  realistic body (subject, two aliases, 400 characters of text); names are matched in the
  client, so a warning carries no name tokens;
* ``blind`` / ``finalize`` — the client's VOPRF work for a batch of names (``finalize``
  includes the proof check against the pinned key);
* ``blind_evaluate`` — the server's VOPRF work for that batch, with its proof;
* ``evaluate`` — the server's direct evaluation of one input (spending a token);
* ``scalarmult`` — one libsodium ristretto255 scalar multiplication through rbcl, the unit
  every step above is made of (blind: 1 per name; blind_evaluate: 2 per name + 3;
  finalize: 3 per name + 4).

Batches: 1 (one name), 21 (a subject and the 20 aliases a warning may carry) and 64 (the
largest batch). Each round runs every measurement once, in a fresh random order, for
``--seconds`` each; a ratio is taken inside each round (so both sides see the same machine
load) and the median over rounds is reported, with ``uptime``'s load. The VOPRF's cost is
also given in scalar multiplications (its time over ``scalarmult``'s in the same round),
which barely moves with the load of a shared machine.

There is no goal of its own here, so the exit status is 0 unless a measurement fails.
"""

import argparse
import os
import platform
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import rbcl

from app.crypto.circles import CircleKey
from app.crypto.entries import ENTRY, EnvelopeContext, seal, signing_key_for
from app.crypto.identity import IdentityKeys
from app.crypto.voprf import OprfKey, VoprfClient, VoprfServer

BODY: dict[str, Any] = {
    "v": 1,
    "subject": "Jan Novák",
    "aliases": ["J. Novak", "Honza Novák"],
    "categories": ["harassment"],
    "severity": "high",
    "text": "He followed me home after the conference dinner and would not leave. " * 6,
    "happened": "2026-03",
    "attribution": {"kind": "named"},
}


def seal_warning(identity: IdentityKeys, key: CircleKey, circle_id: uuid.UUID) -> None:
    context = EnvelopeContext(ENTRY, circle_id, 1, uuid.uuid4())
    signing = signing_key_for(identity, context, anonymous=False)
    seal(BODY, key=key, context=context, signing_key=signing)


def per_call(fn: Callable[[], object], seconds: float) -> float:
    """Seconds per call: as many calls as fit in ``seconds`` (at least 5), after one warm-up."""
    fn()
    calls, start = 0, time.perf_counter()
    while calls < 5 or time.perf_counter() - start < seconds:
        fn()
        calls += 1
    return (time.perf_counter() - start) / calls


def measurements(batches: list[int]) -> dict[str, Callable[[], object]]:
    identity, key, circle_id = IdentityKeys.generate(), CircleKey.generate(), uuid.uuid4()
    oprf_key = OprfKey.generate()
    client, server = VoprfClient(oprf_key.public_key), VoprfServer(oprf_key)
    scalar, point = bytes(oprf_key), bytes(oprf_key.public_key)
    found: dict[str, Callable[[], object]] = {
        "seal": lambda: seal_warning(identity, key, circle_id),
        "evaluate": lambda: server.evaluate(b"a token nonce of 32 bytes......."),
        "scalarmult": lambda: rbcl.crypto_scalarmult_ristretto255(scalar, point),
    }
    for size in batches:
        inputs = [f"normalised name {i}".encode() for i in range(size)]
        blinded = client.blind(inputs)
        evaluation = server.blind_evaluate(blinded.elements)
        assert client.finalize(blinded, evaluation) == [server.evaluate(x) for x in inputs]
        found[f"blind/{size}"] = lambda inputs=inputs: client.blind(inputs)
        found[f"blind_evaluate/{size}"] = lambda b=blinded: server.blind_evaluate(b.elements)
        found[f"finalize/{size}"] = lambda b=blinded, e=evaluation: client.finalize(b, e)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--seconds", type=float, default=0.3, help="per measurement and round")
    parser.add_argument("--batches", default="1,21,64")
    args = parser.parse_args(argv)
    batches = [int(b) for b in args.batches.split(",")]
    ops = measurements(batches)
    rng = random.Random(9497)
    times: dict[str, list[float]] = {name: [] for name in ops}
    ratios: dict[int, list[float]] = {size: [] for size in batches}
    in_mults: dict[int, list[float]] = {size: [] for size in batches}
    for _ in range(args.rounds):
        order = list(ops)
        rng.shuffle(order)
        this_round = {name: per_call(ops[name], args.seconds) for name in order}
        for name, value in this_round.items():
            times[name].append(value)
        for size in batches:
            added = sum(
                this_round[f"{step}/{size}"] for step in ("blind", "blind_evaluate", "finalize")
            )
            ratios[size].append(added / this_round["seal"])
            in_mults[size].append(added / this_round["scalarmult"])
    load = os.getloadavg()
    print(
        f"bench.voprf: {args.rounds} rounds x {args.seconds} s per measurement; Python "
        f"{platform.python_version()}, rbcl {getattr(rbcl, '__version__', '1.1.2')}; "
        f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print(f"{'measurement':<22} {'median µs':>10} {'min µs':>10} {'max µs':>10}")
    for name, values in times.items():
        print(
            f"{name:<22} {statistics.median(values) * 1e6:>10.0f} "
            f"{min(values) * 1e6:>10.0f} {max(values) * 1e6:>10.0f}"
        )
    seal_median = statistics.median(times["seal"])
    for size in batches:
        added = sum(
            statistics.median(times[f"{s}/{size}"]) for s in ("blind", "blind_evaluate", "finalize")
        )
        print(
            f"batch of {size}: blind + blind_evaluate + finalize = {added * 1e3:.2f} ms = "
            f"{statistics.median(ratios[size]):.2f}x the client's seal of a warning "
            f"({seal_median * 1e3:.2f} ms; per-round {min(ratios[size]):.2f}-"
            f"{max(ratios[size]):.2f}) = {statistics.median(in_mults[size]):.1f} scalar "
            f"multiplications (per-round {min(in_mults[size]):.1f}-{max(in_mults[size]):.1f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
