"""The audit log's signed tree heads and server key successions (§33.3, §33.4); the
Merkle tree itself is ``merkle``."""

import uuid
from dataclasses import dataclass

from nacl.signing import SigningKey

from app.crypto import labels
from app.crypto.circles import canonical_json, load_json
from app.crypto.encoding import b64decode, b64encode
from app.crypto.errors import InvalidKey
from app.crypto.moderation import verify_signed


@dataclass(frozen=True)
class TreeHead:
    circle_id: uuid.UUID
    size: int
    root: bytes
    at: str  # server time, UTC, as in membership events

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "v": 1,
                "type": labels.TREE_HEAD_TYPE,
                "circle": self.circle_id.hex,
                "size": self.size,
                "root": b64encode(self.root),
                "at": self.at,
            }
        )

    @classmethod
    def parse(cls, raw: bytes) -> "TreeHead":
        try:
            data = load_json(raw)
            if data["v"] != 1 or data["type"] != labels.TREE_HEAD_TYPE:
                raise InvalidKey("unknown tree head version")
            head = cls(
                circle_id=uuid.UUID(hex=data["circle"]),
                size=int(data["size"]),
                root=b64decode(data["root"]),
                at=str(data["at"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
            raise InvalidKey("malformed tree head") from exc
        if head.size < 0 or len(head.root) != 32 or head.to_bytes() != raw:
            raise InvalidKey("malformed tree head")
        return head

    def sign(self, key: SigningKey) -> bytes:
        return bytes(key.sign(labels.TREE_HEAD_SIGNATURE_CONTEXT + self.to_bytes()).signature)

    def verify_signature(self, signature: bytes, server_key: bytes) -> None:
        verify_signed(
            server_key,
            labels.TREE_HEAD_SIGNATURE_CONTEXT + self.to_bytes(),
            signature,
            "tree head",
        )


def succession_message(old_public: bytes, new_public: bytes, not_before: str) -> bytes:
    """Signed by the outgoing server key: ``new_public`` signs tree heads from ``not_before``."""
    # Fixed-size keys and an ASCII tail keep the message unambiguous (the server sends all three).
    if len(old_public) != 32 or len(new_public) != 32 or not not_before.isascii():
        raise InvalidKey("a succession names two 32-byte keys and an ASCII time")
    return (
        labels.SIGNING_KEY_SUCCESSION_CONTEXT + old_public + new_public + not_before.encode("ascii")
    )


def verify_succession(
    old_public: bytes, new_public: bytes, not_before: str, signature: bytes
) -> None:
    verify_signed(
        old_public,
        succession_message(old_public, new_public, not_before),
        signature,
        "key succession",
    )
