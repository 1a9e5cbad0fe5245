from typing import Annotated

from pydantic import BaseModel

from app.types import B64Bytes, Key32, Signature64

Hash32 = Annotated[bytes, B64Bytes(32)]


class AuditRecordOut(BaseModel):
    seq: int
    body: str  # canonical JSON, the leaf's exact bytes (docs/protocol.md §15)
    hash: Hash32  # the event hash that the next record's "prev" names
    leaf_hash: Hash32  # SHA-256(0x00 || body)


class TreeHeadOut(BaseModel):
    tree_head: str  # canonical JSON (docs/protocol.md §33.3)
    signature: Signature64
    key_id: int
    public_key: Key32


class ConsistencyOut(BaseModel):
    first: int
    second: int
    proof: list[Hash32]


class InclusionOut(BaseModel):
    index: int
    size: int
    leaf_hash: Hash32
    proof: list[Hash32]


class ServerKeyOut(BaseModel):
    key_id: int
    public_key: Key32
    not_before: str
    succession_signature: Signature64 | None  # by the key before it; null for the first


class ServerKeysOut(BaseModel):
    keys: list[ServerKeyOut]
