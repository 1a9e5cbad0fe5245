"""The proof of work on a takedown request (docs/protocol.md §31.7).

Anyone with a takedown link can file a request, so filing costs work instead of a fixed
per-circle window that junk could fill. The server hands out a challenge (opaque bytes it
made and can check: circle, time, work) whose ``work`` rises with the circle's recent load;
the requester's client finds ``SOLUTIONS`` nonces for it, bound to this very request.

    seed       = BLAKE2b-256(person "bc.v1.proof-seed", challenge || case_id || case_hash)
    hash(n)    = Argon2id(password = seed || uint32_be(n), salt = "bc.v1.takedn-pow",
                          t = 1, m = 4 MiB, p = 1, 32 bytes)
    meets(n)   = uint64_be(hash(n)[0:8]) < floor(2^64 / work)
    proof      = SOLUTIONS distinct nonces in ascending order, each < 2^32, each meeting

Why Argon2id (memory-hard) and not a plain hash: every evaluation fills and reads 4 MiB, so
a GPU's advantage is bounded by its memory bandwidth (tens of times one CPU core) rather
than its arithmetic (thousands of times, for BLAKE2b or SHA-256), and both PyNaCl and
libsodium.js have it. t = 1 with p = 1 is RFC 9106 §4's first choice. Eight solutions of
``work`` expected evaluations each, instead of one of eight times the work: the total cost
varies far less (a sum of eight exponential waits: the 99th percentile is about 2.1 times
the mean, against 4.6 times for one), so a genuine requester can plan on it. Verifying
costs at most eight evaluations and stops at the first that fails.

The seed binds the proof to the challenge (so nothing can be computed before the server
hands it out, and it expires with it), the case id (unique: a proof cannot be used twice)
and the case hash (the exact ciphertext: a proof cannot be moved to another request).
"""

import uuid
from itertools import pairwise

import nacl.pwhash.argon2id
from nacl.encoding import RawEncoder
from nacl.hash import blake2b

from app.crypto import labels
from app.crypto.errors import InvalidKey, InvalidWork

SOLUTIONS = 8
OPSLIMIT = 1
MEMLIMIT = 4 * 1024 * 1024
MAX_NONCE = 2**32 - 1
# A client refuses more work than this per solution (about a million evaluations in all):
# a hostile server cannot make it compute for ever. The server never asks for more.
MAX_WORK = 2**17
MAX_CHALLENGE = 256


def proof_seed(challenge: bytes, case_id: uuid.UUID, case_hash: bytes) -> bytes:
    if not 1 <= len(challenge) <= MAX_CHALLENGE or len(case_hash) != 32:
        raise InvalidKey("a challenge is 1 to 256 bytes and a case hash 32")
    digest: bytes = blake2b(
        challenge + case_id.bytes + case_hash,
        digest_size=32,
        person=labels.PERSON_PROOF_SEED,
        encoder=RawEncoder,
    )
    return digest


def proof_hash(seed: bytes, nonce: int) -> bytes:
    """One evaluation: Argon2id of the seed and the nonce (4 MiB, one pass)."""
    if len(seed) != 32 or not 0 <= nonce <= MAX_NONCE:
        raise InvalidKey("a seed is 32 bytes and a nonce below 2^32")
    digest: bytes = nacl.pwhash.argon2id.kdf(
        32,
        seed + nonce.to_bytes(4, "big"),
        labels.PROOF_ARGON2_SALT,
        opslimit=OPSLIMIT,
        memlimit=MEMLIMIT,
    )
    return digest


def check_work(work: int) -> None:
    if isinstance(work, bool) or not isinstance(work, int) or not 1 <= work <= MAX_WORK:
        raise InvalidKey(f"the work asked for is not between 1 and {MAX_WORK}")


def meets(digest: bytes, work: int) -> bool:
    """Whether one evaluation counts: its first 64 bits, big-endian, below 2^64 / work."""
    return int.from_bytes(digest[:8], "big") < (1 << 64) // work


def solve_proof(seed: bytes, work: int) -> list[int]:
    """The first ``SOLUTIONS`` nonces from 0 upwards that meet ``work`` (about
    ``SOLUTIONS * work`` evaluations)."""
    check_work(work)
    found: list[int] = []
    nonce = 0
    while len(found) < SOLUTIONS:
        if nonce > MAX_NONCE:
            raise InvalidWork("no proof below 2^32")  # about 2^-100000 at MAX_WORK
        if meets(proof_hash(seed, nonce), work):
            found.append(nonce)
        nonce += 1
    return found


def verify_proof(seed: bytes, work: int, nonces: list[int]) -> None:
    """Raise ``InvalidWork`` unless ``nonces`` is a proof for ``seed`` at ``work``."""
    check_work(work)
    if (
        len(nonces) != SOLUTIONS
        or any(isinstance(n, bool) or not isinstance(n, int) for n in nonces)
        or any(not 0 <= n <= MAX_NONCE for n in nonces)
        or any(a >= b for a, b in pairwise(nonces))
    ):
        raise InvalidWork(f"a proof is {SOLUTIONS} ascending nonces below 2^32")
    for nonce in nonces:
        if not meets(proof_hash(seed, nonce), work):
            raise InvalidWork("the proof does not meet the challenge's work")
