"""The device's copy of each circle's warnings: synced, verified, decrypted, and analysed
for name matching, so a read or a check fetches only what changed (docs/protocol.md §26.9).

``MemoryCache`` keeps the copy for the life of the object (tests, SDK users, the web
client's equivalent). ``FileCache`` keeps it on disk for the CLI, one file per circle,
encrypted with XChaCha20-Poly1305 under a key derived from the profile's identity secret
(keyed BLAKE2b, its own personalisation), with associated data binding the file's purpose,
user, server and circle, and written atomically with mode 0600.

A copy holds what the server shows now: a warning that was retracted, expired, hidden or
removed keeps only its id, order and status here too (its text is gone from the file at
the next sync), and a removed member's copy is deleted when the server refuses them.
"""

import json
import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import nacl.bindings
import nacl.exceptions
from nacl.encoding import RawEncoder
from nacl.hash import blake2b

from app.client.profile import write_private
from app.crypto import IdentityKeys, labels
from app.crypto.circles import canonical_json
from app.crypto.matching import NameForms

__all__ = ["CachedWarning", "CircleCopy", "FileCache", "MemoryCache", "WarningCache"]

FORMAT_VERSION = 2
CACHE_DIR = "cache"
NONCE_BYTES = 24


class CachedWarning:
    """A warning as the reader's client opened it (``ReadEntry.as_json()`` fields plus
    ``seq`` and ``change_seq``) and the analysed forms of its subject and aliases.

    Read from a file, ``data`` stays unparsed until it is asked for: a check parses the
    forms of every warning but the data of its matches only."""

    __slots__ = (
        "_data",
        "_forms",
        "_forms_json",
        "_raw",
        "entry_id",
        "expires_at",
        "memo",
        "seq",
        "status",
    )

    def __init__(
        self,
        data: dict[str, Any] | None,
        forms: list[NameForms] | None,
        *,
        head: tuple[str, int, str, str] | None = None,
        raw: bytes | None = None,
        forms_json: list[Any] | None = None,
    ) -> None:
        if data is not None:
            head = (data["entry_id"], int(data["seq"]), data["status"], data["expires_at"])
        assert head is not None and (forms is not None or forms_json is not None)
        self.entry_id, self.seq, self.status, self.expires_at = head
        self._forms = forms
        self._forms_json = forms_json
        self._data = data
        self._raw = raw
        # What a full read made of this warning (``Entries.read_all``), kept while the
        # warning is unchanged: a sync replaces a changed warning's object, memo and all.
        self.memo: Any = None

    @property
    def forms(self) -> list[NameForms]:
        """The analysed names; read from a file, built at the first check that needs them
        (a read that checks nothing never pays for them)."""
        if self._forms is None:
            assert self._forms_json is not None
            self._forms = [NameForms.from_json(f) for f in self._forms_json]
        return self._forms

    @property
    def forms_json(self) -> list[Any]:
        if self._forms_json is None:
            assert self._forms is not None
            self._forms_json = [f.as_json() for f in self._forms]
        return self._forms_json

    @property
    def data(self) -> dict[str, Any]:
        if self._data is None:
            assert self._raw is not None
            self._data = json.loads(self._raw)
        return self._data

    @property
    def raw(self) -> bytes:
        if self._raw is None:
            self._raw = json.dumps(self._data, ensure_ascii=False, separators=(",", ":")).encode()
        return self._raw

    @property
    def live(self) -> bool:
        """Live rows always carry their content; every other status is a tombstone here."""
        return self.status == "live"


@dataclass
class CircleCopy:
    """One circle's warnings on this device and the change number they are current to."""

    circle_id: uuid.UUID
    change_seq: int = 0  # every change up to this one is applied
    last_seq: int = 0
    warnings: dict[str, CachedWarning] = field(default_factory=dict)
    # Built by the first check after a change (app/client/namecheck.py); never stored.
    index: Any = field(default=None, repr=False, compare=False)
    # The warnings in seq order, built by the first full read after a change; never stored.
    ordered: Any = field(default=None, repr=False, compare=False)

    def to_json(self) -> bytes:
        """``u32 length || head JSON || the warnings' JSON texts``: the head holds what a
        check needs for every warning (order, status, expiry, forms, where its text is)."""
        bodies: list[bytes] = []
        rows: list[list[Any]] = []
        offset = 0
        for w in self.warnings.values():
            raw = w.raw
            rows.append(
                [
                    w.entry_id,
                    w.seq,
                    w.status,
                    w.expires_at,
                    w.forms_json,
                    offset,
                    len(raw),
                ]
            )
            bodies.append(raw)
            offset += len(raw)
        head = json.dumps(
            {
                "v": FORMAT_VERSION,
                "circle_id": str(self.circle_id),
                "change_seq": self.change_seq,
                "last_seq": self.last_seq,
                "warnings": rows,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        return len(head).to_bytes(4, "big") + head + b"".join(bodies)

    @classmethod
    def from_json(cls, raw: bytes, circle_id: uuid.UUID) -> "CircleCopy":
        size = int.from_bytes(raw[:4], "big")
        head = json.loads(raw[4 : 4 + size])
        if head.get("v") != FORMAT_VERSION or head.get("circle_id") != str(circle_id):
            raise ValueError("not a copy of this circle")
        bodies = memoryview(raw)[4 + size :]
        warnings = {}
        for entry_id, seq, status, expires_at, forms, offset, length in head["warnings"]:
            if offset + length > len(bodies):
                raise ValueError("a warning lies outside the copy")
            if not isinstance(forms, list):
                raise ValueError("a warning's names are not a list")
            warnings[entry_id] = CachedWarning(
                None,
                None,
                head=(entry_id, seq, status, expires_at),
                raw=bytes(bodies[offset : offset + length]),
                forms_json=forms,
            )
        return cls(circle_id, int(head["change_seq"]), int(head["last_seq"]), warnings)


class WarningCache(Protocol):
    """Where a client keeps its copies; ``load`` returns None when it has none (or none
    it can trust: a damaged file is dropped and the circle synced again from scratch)."""

    def load(self, circle_id: uuid.UUID) -> CircleCopy | None: ...

    def save(self, copy: CircleCopy) -> None: ...

    def drop(self, circle_id: uuid.UUID) -> None: ...


class MemoryCache:
    """Copies that live as long as this object."""

    def __init__(self) -> None:
        self._copies: dict[uuid.UUID, CircleCopy] = {}

    def load(self, circle_id: uuid.UUID) -> CircleCopy | None:
        return self._copies.get(circle_id)

    def save(self, copy: CircleCopy) -> None:
        self._copies[copy.circle_id] = copy

    def drop(self, circle_id: uuid.UUID) -> None:
        self._copies.pop(circle_id, None)


def cache_key(identity: IdentityKeys) -> bytes:
    """KDF(identity secret, "bc.v1.local-cache"): the key of this device's cache files."""
    key: bytes = blake2b(
        b"",
        digest_size=32,
        key=bytes(identity),
        person=labels.PERSON_LOCAL_CACHE_KEY,
        encoder=RawEncoder,
    )
    return key


def cache_ad(*, username: str, server: str, circle_id: uuid.UUID) -> bytes:
    """What a cache file is for and whose it is: another file swapped in does not open."""
    return labels.LOCAL_CACHE_AD_PREFIX + canonical_json(
        {"purpose": "warnings", "user": username, "server": server, "circle": str(circle_id)}
    )


class FileCache:
    """Encrypted copies in ``directory`` (``BACKCHANNEL_HOME/cache`` for the CLI)."""

    def __init__(
        self, directory: Path, *, identity: IdentityKeys, username: str, server: str
    ) -> None:
        self.directory = directory
        self._key = cache_key(identity)
        self._username = username
        self._server = server
        self._memory = MemoryCache()  # what this process already loaded or wrote

    def _path(self, circle_id: uuid.UUID) -> Path:
        return self.directory / f"{circle_id}.warnings"

    def _ad(self, circle_id: uuid.UUID) -> bytes:
        return cache_ad(username=self._username, server=self._server, circle_id=circle_id)

    def load(self, circle_id: uuid.UUID) -> CircleCopy | None:
        held = self._memory.load(circle_id)
        if held is not None:
            return held
        try:
            sealed = self._path(circle_id).read_bytes()
        except FileNotFoundError:
            return None
        try:
            plain = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                sealed[NONCE_BYTES:], self._ad(circle_id), sealed[:NONCE_BYTES], self._key
            )
            copy = CircleCopy.from_json(plain, circle_id)
        except (nacl.exceptions.CryptoError, ValueError, KeyError, TypeError):
            # Damaged, or not this profile's: start again from the server.
            self.drop(circle_id)
            return None
        self._memory.save(copy)
        return copy

    def save(self, copy: CircleCopy) -> None:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            copy.to_json(), self._ad(copy.circle_id), nonce, self._key
        )
        write_private(self._path(copy.circle_id), nonce + sealed)
        self._memory.save(copy)

    def drop(self, circle_id: uuid.UUID) -> None:
        self._memory.drop(circle_id)
        self._path(circle_id).unlink(missing_ok=True)
