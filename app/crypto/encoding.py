"""Binary values on the wire are RFC 4648 §4 base64 with padding."""

import base64
import binascii

from app.crypto.errors import InvalidKey


def b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode strictly: no whitespace, no URL-safe alphabet, padding required."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise InvalidKey("not canonical base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:  # e.g. "AB==" for b"\x00"
        raise InvalidKey("not canonical base64")
    return raw
