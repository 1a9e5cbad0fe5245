"""Binary values on the wire are RFC 4648 §4 base64 with padding."""

import base64
import binascii

from app.crypto.errors import InvalidKey


def b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode strictly: no whitespace, no URL-safe alphabet, padding required."""
    try:
        encoded = text.encode("ascii")
        raw = binascii.a2b_base64(encoded, strict_mode=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise InvalidKey("not canonical base64") from exc
    if binascii.b2a_base64(raw, newline=False) != encoded:  # e.g. "AB==" for b"\x00"
        raise InvalidKey("not canonical base64")
    return raw


PASTED_LIMIT = 2000


def pasted_token(text: str) -> str:
    """A token as people paste it (protocol.md §1, "Pasted tokens"): every whitespace
    character in it is dropped (a terminal's line breaks, a mail client's wrapping), then
    one pair of surrounding ``<angle brackets>``."""
    if len(text) > PASTED_LIMIT:
        raise InvalidKey("this is too long to be a Backchannel token")
    joined = "".join(text.split())
    if len(joined) >= 2 and joined[0] == "<" and joined[-1] == ">":
        joined = joined[1:-1]
    return joined
