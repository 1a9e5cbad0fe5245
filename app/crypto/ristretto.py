"""ristretto255 (RFC 9496) through libsodium, as ``rbcl`` bundles it: the group and scalar
operations of the VOPRF (``app/crypto/voprf.py``, docs/protocol.md §34).

Pure functions over bytes: an element is its 32-byte encoding, a scalar 32 little-endian
bytes below the group order ``L``. Every operation is libsodium's; nothing here implements
group arithmetic. What is decided here is how libsodium's edges are met:

* ``is_element`` refuses the identity (libsodium's ``is_valid_point`` accepts its all-zero
  encoding) and an encoding with bit 255 set (the libsodium 1.0.18 that rbcl bundles
  ignores the bit, 1.0.19 and libsodium.js refuse it), so both clients accept exactly the
  same encodings.
* ``mul`` and ``mul_base`` return the identity (32 zero bytes) where libsodium reports an
  identity product, or a zero scalar, as an error: the RFC's composites start from the
  identity and may meet it.
* ``random_scalar`` is 64 bytes of libsodium's CSPRNG reduced modulo ``L`` (RFC 9497 §4.7
  asks for at least 48; the bias is below 2^-250), drawn again in the 2^-252 case that it
  is zero. It is the only source of blinds, proof nonces and generated keys; the vector
  tests replace it to replay the RFC's values.
* rbcl loads its libsodium from a temporary file that it never removes (2.8 MB per
  process); once loaded the file is not needed, so it is removed here (POSIX keeps the
  mapping; elsewhere the removal fails quietly and the file stays, as rbcl leaves it).
"""

import contextlib
import hmac
import importlib
import os

import rbcl

ELEMENT_BYTES = 32
SCALAR_BYTES = 32
IDENTITY = bytes(ELEMENT_BYTES)
ZERO_SCALAR = bytes(SCALAR_BYTES)


def _remove_bundled_library() -> None:
    path = getattr(importlib.import_module("rbcl._sodium"), "lib_path", None)
    if isinstance(path, str):
        with contextlib.suppress(OSError):
            os.unlink(path)


_remove_bundled_library()


def is_element(raw: bytes) -> bool:
    """A canonical encoding of an element other than the identity (RFC 9496 §4.3.1)."""
    return (
        len(raw) == ELEMENT_BYTES
        and not raw[31] & 0x80
        and not hmac.compare_digest(raw, IDENTITY)
        and bool(rbcl.crypto_core_ristretto255_is_valid_point(raw))
    )


def is_scalar(raw: bytes) -> bool:
    """32 little-endian bytes below ``L``."""
    return len(raw) == SCALAR_BYTES and hmac.compare_digest(reduce(raw + ZERO_SCALAR), raw)


def reduce(wide: bytes) -> bytes:
    """64 little-endian bytes modulo ``L``."""
    scalar: bytes = rbcl.crypto_core_ristretto255_scalar_reduce(wide)
    return scalar


def random_scalar() -> bytes:
    """A uniform non-zero scalar."""
    while True:
        scalar = reduce(rbcl.randombytes(64))
        if not hmac.compare_digest(scalar, ZERO_SCALAR):
            return scalar


def from_hash(digest: bytes) -> bytes:
    """RFC 9496 §4.3.4: the element of 64 uniform bytes."""
    point: bytes = rbcl.crypto_core_ristretto255_from_hash(digest)
    return point


def mul(scalar: bytes, point: bytes) -> bytes:
    """``scalar·point`` for a point already decoded (or the identity)."""
    try:
        product: bytes = rbcl.crypto_scalarmult_ristretto255(scalar, point)
    except RuntimeError:  # libsodium: the product is the identity
        return IDENTITY
    return product


def mul_base(scalar: bytes) -> bytes:
    """``scalar·G``."""
    try:
        product: bytes = rbcl.crypto_scalarmult_ristretto255_base(scalar)
    except RuntimeError:  # libsodium: the scalar is zero
        return IDENTITY
    return product


def add(p: bytes, q: bytes) -> bytes:
    total: bytes = rbcl.crypto_core_ristretto255_add(p, q)
    return total


def invert(scalar: bytes) -> bytes:
    """``scalar^-1`` modulo ``L``, for a non-zero scalar."""
    inverse: bytes = rbcl.crypto_core_ristretto255_scalar_invert(scalar)
    return inverse


def scalar_mul(a: bytes, b: bytes) -> bytes:
    product: bytes = rbcl.crypto_core_ristretto255_scalar_mul(a, b)
    return product


def scalar_sub(a: bytes, b: bytes) -> bytes:
    difference: bytes = rbcl.crypto_core_ristretto255_scalar_sub(a, b)
    return difference


def scalar_add(a: bytes, b: bytes) -> bytes:
    total: bytes = rbcl.crypto_core_ristretto255_scalar_add(a, b)
    return total
