"""Anonymous posting tokens for the SDK (docs/protocol.md §38): fetch them blindly, keep
a stock, spend one per anonymous warning or corroboration, and (as an admin) sign each
epoch's issuance key and unmask an abusive poster.

Every answer is checked before it is used: the issuance record's admin signature (which
pins the epoch's key), and the VOPRF proof of every batch against that pinned key, so a
server that used a key of its own for one member (to recognise their tokens) is caught
(``bad_proof``) before a single token is kept.
"""

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeGuard

from app.client.circles import Circles, VerifiedCircle, _protocol
from app.client.errors import ApiError, ProtocolError
from app.client.profile import home, write_private
from app.crypto import CryptoError, b64decode, b64encode
from app.crypto.anon import (
    DEFAULT_TOKENS_PER_WEEK,
    MAX_TOKEN_BATCH,
    IssuanceRecord,
    author_claim,
    open_author,
    seal_author,
    token_period,
)
from app.crypto.anon import token_input as new_token_input
from app.crypto.voprf import OprfElement, OprfEvaluation, OprfProof, OprfPublicKey, VoprfClient

__all__ = [
    "Anonymous",
    "FileTokenStore",
    "MemoryTokenStore",
    "TokenStore",
    "Unmasked",
    "keys_used",
    "shared_stock",
]

TOKENS_FILE = "tokens.json"
# Why a stock-up found nothing to take: not worth an error when a circle is merely opened.
NOTHING_TO_TAKE = {"anon_not_set_up", "token_limit", "rotation_due", "stale_epoch"}
KEYS_KEPT = 16  # epochs whose token key a stock remembers, for ``audit verify``
HELD_BATCHES = 2  # a stock keeps at most this many batches (the newest tokens)


class TokenStore(Protocol):
    """Unspent tokens by circle: ``{"epoch": int, "tokens": [[input, output], ...],
    "keys": {epoch: b64 key}}``; ``keys`` are the issuance keys this device took tokens
    under, which ``audit verify`` compares with the log's (``audit_issuance``)."""

    def load(self, circle_id: uuid.UUID) -> dict[str, Any] | None: ...

    def save(self, circle_id: uuid.UUID, stock: dict[str, Any]) -> None: ...


class MemoryTokenStore:
    def __init__(self) -> None:
        self._stock: dict[uuid.UUID, dict[str, Any]] = {}

    def load(self, circle_id: uuid.UUID) -> dict[str, Any] | None:
        return self._stock.get(circle_id)

    def save(self, circle_id: uuid.UUID, stock: dict[str, Any]) -> None:
        self._stock[circle_id] = stock


class FileTokenStore:
    """The CLI's stock, next to the profile (0600). Spent tokens leave it before they are
    sent, so the file never holds one that names a post."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else home() / TOKENS_FILE

    def _all(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def load(self, circle_id: uuid.UUID) -> dict[str, Any] | None:
        found = self._all().get(str(circle_id))
        return found if isinstance(found, dict) else None

    def save(self, circle_id: uuid.UUID, stock: dict[str, Any]) -> None:
        data = self._all()
        data[str(circle_id)] = stock
        write_private(self.path, json.dumps(data).encode())


def shared_stock(circles: Circles) -> TokenStore:
    """The default stock: in memory, one per ``Circles`` (every ``Entries`` made for the same
    account shares it, so a fetched batch is not dropped with the object that fetched it)."""
    stock: TokenStore | None = getattr(circles, "_anonymous_tokens", None)
    if stock is None:
        stock = MemoryTokenStore()
        circles._anonymous_tokens = stock  # type: ignore[attr-defined]
    return stock


def keys_used(store: TokenStore, circle_id: uuid.UUID) -> dict[str, str]:
    """Epoch → base64 issuance key, for each epoch this device took tokens of."""
    return _keys_of(store.load(circle_id))


def _keys_of(stock: dict[str, Any] | None) -> dict[str, str]:
    keys = (stock or {}).get("keys")
    if not isinstance(keys, dict):
        return {}
    return {str(e): k for e, k in keys.items() if isinstance(k, str)}


@dataclass(frozen=True)
class Unmasked:
    object_id: str
    user: str
    verified: bool  # the named member's identity key signed this object's key


def _current(stock: dict[str, Any] | None, circle: VerifiedCircle) -> TypeGuard[dict[str, Any]]:
    """Whether ``stock`` holds unspent tokens of the circle's current epoch."""
    return (
        stock is not None
        and stock.get("epoch") == circle.epoch
        and isinstance(stock.get("tokens"), list)
        and len(stock["tokens"]) > 0
    )


class Anonymous:
    """``tokens`` keeps unspent tokens (in memory unless given a store)."""

    def __init__(
        self,
        circles: Circles,
        *,
        tokens: TokenStore | None = None,
        batch: int = 4,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.circles = circles
        self.client = circles.client
        self.tokens: TokenStore = tokens if tokens is not None else shared_stock(circles)
        self.batch = max(1, min(batch, MAX_TOKEN_BATCH))
        self._clock = clock

    def _moderation(self) -> Any:
        from app.client.moderation import Moderation

        return Moderation(self.circles)

    # -- the issuance record -------------------------------------------------------------

    def issuance(self, circle: VerifiedCircle) -> tuple[IssuanceRecord | None, dict[str, Any]]:
        """This epoch's verified issuance record (None if no admin signed it yet)."""
        data = self.client.request("GET", f"/v1/circles/{circle.circle_id}/anon/issuance")
        row = data.get("record")
        if row is None:
            return None, data
        try:
            record = IssuanceRecord.parse(row["record"].encode())
            if record.circle_id != circle.circle_id or record.epoch != circle.epoch:
                raise ProtocolError("wrong_epoch", "an issuance record of another circle or epoch")
            signer = self._moderation().listed_identity(circle, record.signer, admin=True)
            if signer is None:
                raise ProtocolError(
                    "untrusted_signer", "the issuance key is not signed by a current admin"
                )
            record.verify_signature(b64decode(row["signature"]), signer)
        except CryptoError as exc:
            raise _protocol(exc) from exc
        return record, data

    def certify(self, circle_id: uuid.UUID, *, tokens_per_week: int | None = None) -> None:
        """As an admin: sign this epoch's issuance key (the one moment the server's word on
        the key is taken, by an admin; every member then checks every batch against it)."""
        circle = self.circles.sync(circle_id)
        record, data = self.issuance(circle)
        if record is not None:
            return
        record = IssuanceRecord(
            circle_id=circle_id,
            epoch=circle.epoch,
            oprf_public_key=b64decode(data["oprf_public_key"]),
            tokens_per_week=tokens_per_week or DEFAULT_TOKENS_PER_WEEK,
            signer=self.circles.username,
        )
        try:
            record.check()
        except CryptoError as exc:
            raise _protocol(exc) from exc
        self.client.request(
            "POST",
            f"/v1/circles/{circle_id}/anon/issuance",
            json={
                "record": record.to_bytes().decode(),
                "signature": b64encode(record.sign(self.circles.identity)),
            },
        )

    def set_up(self, circle_id: uuid.UUID) -> None:
        """As an admin: everything anonymous posting needs (moderation key, issuance key)."""
        self._moderation().ensure_key(circle_id)
        self.certify(circle_id)

    # -- tokens --------------------------------------------------------------------------

    def _fetch(self, circle: VerifiedCircle) -> tuple[list[list[str]], bytes]:
        record, data = self.issuance(circle)
        if record is None:
            if circle.role in ("owner", "admin"):
                self.certify(circle.circle_id)
                record, data = self.issuance(circle)
            if record is None:
                raise ProtocolError(
                    "anon_not_set_up",
                    "no admin has signed this circle's token key for its current epoch yet; "
                    "an admin's client does it when they next open the circle",
                )
        left = int(data["tokens_allowed"]) - int(data["tokens_used"])
        count = min(self.batch, left)
        if count <= 0:
            raise ProtocolError(
                "token_limit", "you have used this week's anonymous posts in this circle"
            )
        try:
            voprf = VoprfClient(OprfPublicKey(record.oprf_public_key))
            inputs = [new_token_input(circle.circle_id, circle.epoch) for _ in range(count)]
            blinded = voprf.blind(inputs)
        except CryptoError as exc:
            raise _protocol(exc) from exc
        answer = self.client.request(
            "POST",
            f"/v1/circles/{circle.circle_id}/anon/tokens",
            json={
                "epoch": circle.epoch,
                "blinded": [b64encode(bytes(e)) for e in blinded.elements],
            },
        )
        try:
            evaluation = OprfEvaluation(
                [OprfElement(b64decode(e)) for e in answer["evaluated"]],
                OprfProof(b64decode(answer["proof"])),
            )
            outputs = voprf.finalize(blinded, evaluation)
        except CryptoError as exc:
            raise _protocol(exc) from exc
        tokens = [[b64encode(i), b64encode(o)] for i, o in zip(inputs, outputs, strict=True)]
        return tokens, record.oprf_public_key

    def take(self, circle: VerifiedCircle) -> dict[str, str]:
        """One unspent token of the circle's current epoch, removed from the stock first."""
        stock = self.tokens.load(circle.circle_id)
        if not _current(stock, circle):
            stock = self._restock(circle, stock)
        token_in, token_out = stock["tokens"].pop(0)
        self.tokens.save(circle.circle_id, stock)
        return {"input": token_in, "output": token_out}

    def stock_up(self, circle: VerifiedCircle) -> int:
        """Take this week's batch now, if this device has not yet taken one of the circle's
        current epoch this week (whatever it still holds); clients call it when a circle is
        opened. A later anonymous post then spends a token taken earlier, not one taken just
        before it: the issuance and the post are not next to each other in time or in the
        database's write order (on PostgreSQL, ``xmin``). And every member who opens the
        circle in a week takes the same batch that week, posters or not, so a week's
        issuance counts say who opened the circle, not who spent tokens (only a member who
        spends more than they hold takes more). Returns how many tokens are held (0: none
        to take)."""
        held = self.tokens.load(circle.circle_id)
        if _current(held, circle) and held.get("week") == token_period(int(self._clock())):
            return len(held["tokens"])
        try:
            stock = self._restock(circle, held)
        except (ApiError, ProtocolError) as exc:
            if exc.code in NOTHING_TO_TAKE:
                return self.held(circle)
            raise
        self.tokens.save(circle.circle_id, stock)
        return len(stock["tokens"])

    def held(self, circle: VerifiedCircle) -> int:
        """How many unspent tokens of the circle's current epoch this device holds."""
        stock = self.tokens.load(circle.circle_id)
        return len(stock["tokens"]) if _current(stock, circle) else 0

    def _restock(self, circle: VerifiedCircle, held: dict[str, Any] | None) -> dict[str, Any]:
        """A fresh batch added to ``held`` (the stock as loaded), remembering the key it was
        taken under (``audit verify`` checks it is the one key the log holds for the epoch)."""
        tokens, key = self._fetch(circle)
        if _current(held, circle):  # the epoch's unspent tokens stay
            tokens = (list(held["tokens"]) + tokens)[-HELD_BATCHES * self.batch :]
        keys = _keys_of(held)
        keys[str(circle.epoch)] = b64encode(key)
        recent = sorted(keys.items(), key=lambda item: int(item[0]))[-KEYS_KEPT:]
        week = token_period(int(self._clock()))
        return {"epoch": circle.epoch, "week": week, "tokens": tokens, "keys": dict(recent)}

    def sealed_author(
        self, circle: VerifiedCircle, *, object_id: uuid.UUID, author_key: bytes
    ) -> dict[str, Any]:
        """The author, sealed to the newest moderation key (§38.3)."""
        moderation = self._moderation()
        state = moderation.state(circle)
        if state.current is None and circle.role in ("owner", "admin"):
            moderation.ensure_key(circle.circle_id)
            state = moderation.state(circle)
        if state.current is None:
            raise ProtocolError(
                "moderation_key_missing",
                "this circle has no moderation key yet; an admin's client makes one",
            )
        claim = author_claim(
            self.circles.identity,
            self.circles.username,
            circle_id=circle.circle_id,
            object_id=object_id,
            author_key=author_key,
        )
        sealed = seal_author(
            claim,
            circle_id=circle.circle_id,
            object_id=object_id,
            generation=state.current.generation,
            moderation_public=state.current.public_key,
        )
        return {"sealed_author": b64encode(sealed), "author_generation": state.current.generation}

    # -- unmasking (admins) --------------------------------------------------------------

    def unmask(
        self, circle_id: uuid.UUID, entry_id: str, corroboration_id: str | None = None
    ) -> Unmasked:
        """Open the sealed author of an anonymous warning or corroboration. The server logs
        the request (``author_unmasked``) before it answers: every member can see it."""
        moderation = self._moderation()
        circle, state = moderation.ensure_key(circle_id)
        answer = self.client.request(
            "POST",
            f"/v1/circles/{circle_id}/anon/unmask",
            json={"entry_id": entry_id, "corroboration_id": corroboration_id},
        )
        object_id = uuid.UUID(corroboration_id or entry_id)
        if answer["object_id"] != str(object_id):
            raise ProtocolError("invalid_data", "the server unmasked another object")
        try:
            keys = moderation.secret_keys(circle, state)
            generation = int(answer["author_generation"])
            if generation not in keys:
                raise ProtocolError(
                    "missing_key", f"this device has no moderation key of generation {generation}"
                )
            author_key = b64decode(answer["author_key"])
            claim = open_author(
                b64decode(answer["sealed_author"]),
                key=keys[generation],
                circle_id=circle_id,
                object_id=object_id,
                generation=generation,
            )
            # Verified only with keys the circle's signed record vouches for: for anyone else
            # the server alone says whose keys they are, and it holds the moderation public
            # key, so it could seal a claim naming a former member under a key it made.
            identity = moderation.listed_identity(circle, claim.user)
            verified = identity is not None
            try:
                if identity is not None:
                    claim.verify(
                        identity, circle_id=circle_id, object_id=object_id, author_key=author_key
                    )
            except CryptoError:
                verified = False
        except CryptoError as exc:
            raise _protocol(exc) from exc
        return Unmasked(str(object_id), claim.user, verified)
