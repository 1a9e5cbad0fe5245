"""Pydantic field types shared by every domain's schemas."""

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from app.crypto import b64decode, b64encode
from app.crypto.errors import InvalidKey
from app.crypto.usernames import normalise_username

# The largest value of an INTEGER column (PostgreSQL's is 32-bit): the bound of every seq,
# epoch and generation a request names, so a larger one is a 422, not a database error.
INTEGER_MAX = 2**31 - 1

# Request models reject unknown fields and do not coerce types ("1" is not 1).
REQUEST_CONFIG = ConfigDict(extra="forbid", strict=True)
RESPONSE_CONFIG = ConfigDict(from_attributes=True)


_B64 = "[A-Za-z0-9+/]"
_QUAD = f"(?:{_B64}{{4}})"
# The last character before the padding carries no leftover bits (RFC 4648 §3.5).
_TAILS = {0: "", 1: _B64 + "[AQgw]==", 2: _B64 + "{2}[AEIMQUYcgkosw048]="}


@dataclass(frozen=True)
class B64Bytes:
    """Annotation for bytes carried as base64 in JSON, with a bounded decoded size.

    ``Annotated[bytes, B64Bytes(32)]`` accepts exactly 32 bytes;
    ``B64Bytes(1, 4096)`` a range.
    """

    min_size: int
    max_size: int | None = None

    @property
    def upper(self) -> int:
        return self.min_size if self.max_size is None else self.max_size

    @property
    def max_chars(self) -> int:
        return 4 * ((self.upper + 2) // 3)

    def decode(self, value: Any) -> bytes:
        if isinstance(value, bytes):  # constructed in code, not parsed from JSON
            raw = value
        elif isinstance(value, str) and len(value) <= self.max_chars:
            try:
                raw = b64decode(value)
            except InvalidKey as exc:
                raise ValueError("must be standard base64 with padding") from exc
        else:
            raise ValueError(f"must be a base64 string of at most {self.max_chars} characters")
        if not self.min_size <= len(raw) <= self.upper:
            raise ValueError(f"must decode to {self.min_size}..{self.upper} bytes")
        return raw

    def __get_pydantic_core_schema__(
        self, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            self.decode,
            serialization=core_schema.plain_serializer_function_ser_schema(
                b64encode, when_used="json"
            ),
        )

    def __get_pydantic_json_schema__(
        self, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "contentEncoding": "base64",
            "pattern": self.pattern,
            "minLength": 4 * ((self.min_size + 2) // 3),
            "maxLength": self.max_chars,
        }

    @property
    def pattern(self) -> str:
        """Canonical base64 (what ``b64decode`` accepts): exact for a fixed size; for a range,
        the length bounds are the characters' and the decoded size is checked on top."""
        if self.max_size is None:
            quads, tail = divmod(self.min_size, 3)
            return f"^{_QUAD}{{{quads}}}{_TAILS[tail]}$"
        return f"^{_QUAD}*(?:{_TAILS[1]}|{_TAILS[2]})?$"


Key32 = Annotated[bytes, B64Bytes(32)]
Salt16 = Annotated[bytes, B64Bytes(16)]
Signature64 = Annotated[bytes, B64Bytes(64)]


def _username(value: str) -> str:
    try:
        return normalise_username(value)
    except InvalidKey as exc:
        raise ValueError(str(exc)) from exc


Username = Annotated[str, Field(max_length=64), AfterValidator(_username)]


# FastAPI validates bodies in Python mode, where strict mode would refuse a UUID string.
# What a client calls the device a session is on ("Firefox on Android"): shown to its
# owner in the session list; printable text only, so it cannot forge a line of output.
DeviceLabel = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]

UUIDField = Annotated[uuid.UUID, Field(strict=False)]
