"""Warnings for the SDK: seal, post, read, sync, check, corroborate, retract; every entry
verified before it is used."""

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from operator import attrgetter
from typing import Any

from app.client.anon import Anonymous, TokenStore
from app.client.cache import CircleCopy, MemoryCache, WarningCache
from app.client.circles import Circles, VerifiedCircle
from app.client.delivery import deliver
from app.client.errors import ProtocolError
from app.client.namecheck import NameCheck, check_name
from app.client.sync import sync_copy
from app.client.terms import check_terms
from app.crypto import CryptoError, b64decode, b64encode
from app.crypto.entries import (
    ALIAS_LIMIT,
    CATEGORIES,
    CORROBORATION,
    ENTRY,
    SEVERITIES,
    Envelope,
    EnvelopeContext,
    author_tag,
    check_corroboration_body,
    check_entry_body,
    open_envelope,
    seal,
    sign_retraction,
    sign_terms,
    signing_key_for,
)
from app.crypto.names import normalise_name

__all__ = ["Entries", "ReadEntry"]

# Sync and seal again on these: the key rotated (the envelope's epoch, or the token's, is
# old) or the admins renewed the moderation key the author is sealed to.
STALE_CODES = ("stale_epoch", "stale_token", "moderation_key_stale")
DEFAULT_TTL_DAYS = 730  # a warning's life unless its author chooses (1..3650 days, §24.2)
DAY = 86_400
HOUR = 3_600


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ cost 5x (a feed makes 10,000)
class ReadEntry:
    entry_id: str
    seq: int
    status: str
    subject: str | None
    aliases: list[str]
    categories: list[str]
    severity: str | None
    affiliation: str | None
    happened: str | None
    contact: str | None
    text: str | None
    author: str | None
    corroborations: int
    created_at: str
    expires_at: str
    # The key the warning is signed with (base64): the author's identity key, or for an
    # anonymous one the per-entry key only its author derives. Kept in the device's copy so
    # acting on one's own warning needs no request about that warning (§38.6); not output.
    author_key: str | None = None

    @classmethod
    def from_held(cls, data: dict[str, Any]) -> "ReadEntry":
        """A warning from a device's copy (``as_json()`` with its ``seq``)."""
        return cls(
            data["entry_id"],
            int(data["seq"]),
            data["status"],
            data["subject"],
            list(data["aliases"]),
            list(data["categories"]),
            data["severity"],
            data["affiliation"],
            data["happened"],
            data["contact"],
            data["text"],
            data["author"],
            int(data["corroborations"]),
            data["created_at"],
            data["expires_at"],
            data.get("author_key"),  # copies saved before it was kept lack it
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id,
            "status": self.status,
            "subject": self.subject,
            "aliases": self.aliases,
            "categories": self.categories,
            "severity": self.severity,
            "affiliation": self.affiliation,
            "happened": self.happened,
            "contact": self.contact,
            "text": self.text,
            "author": self.author,
            "corroborations": self.corroborations,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
        }


def _envelope(row: dict[str, Any]) -> Envelope:
    return Envelope(
        author_key=b64decode(row["author_key"]),
        commitment=b64decode(row["commitment"]),
        nonce=b64decode(row["nonce"]),
        ciphertext=b64decode(row["ciphertext"]),
        signature=b64decode(row["signature"]),
    )


def _protocol(exc: CryptoError) -> ProtocolError:
    from app.client.circles import _protocol as mapped

    return mapped(exc)


class Entries:
    """``cache`` keeps the synced copy of each circle's warnings (``sync``, ``check``);
    by default in memory, for the life of this object."""

    def __init__(
        self,
        circles: Circles,
        *,
        cache: WarningCache | None = None,
        tokens: TokenStore | None = None,
    ) -> None:
        self.circles = circles
        self.client = circles.client
        self.cache: WarningCache = cache if cache is not None else MemoryCache()
        self.anonymous = Anonymous(circles, tokens=tokens)
        self._authors: dict[tuple[str, str], bytes] = {}

    def _payload(
        self,
        *,
        subject: str,
        aliases: list[str],
        categories: list[str],
        text: str,
        severity: str | None,
        affiliation: str | None,
        happened: str | None,
        contact: str | None,
        anonymous: bool,
    ) -> dict[str, Any]:
        unknown = [c for c in categories if c not in CATEGORIES]
        if unknown or not categories:
            raise ProtocolError(
                "bad_category",
                (f"unknown category {', '.join(map(repr, unknown))}: " if unknown else "")
                + f"give one or more of {', '.join(CATEGORIES)}",
            )
        if severity is not None and severity not in SEVERITIES:
            raise ProtocolError("bad_severity", f"severity is one of {', '.join(SEVERITIES)}")
        if happened is not None:
            try:
                date.fromisoformat(happened + "-01")
            except ValueError:
                raise ProtocolError("bad_month", "when it happened is YYYY-MM") from None
        for name in [subject, *aliases]:
            if not normalise_name(name):
                raise ProtocolError("bad_name", f"{name!r} has no letters or digits")
        too_long = [v for v in [subject, *aliases, affiliation, contact] if v and len(v) > 200]
        if too_long or len(aliases) > ALIAS_LIMIT or len(set(categories)) != len(categories):
            raise ProtocolError(
                "too_long",
                f"names and details are at most 200 characters, at most {ALIAS_LIMIT} aliases, "
                "each category once",
            )
        return {
            "v": 1,
            "subject": subject,
            "aliases": aliases,
            "categories": categories,
            "severity": severity,
            "affiliation": affiliation,
            "happened": happened,
            "contact": contact,
            "text": text,
            "attribution": "anonymous" if anonymous else "named",
        }

    def post(
        self,
        circle_id: uuid.UUID,
        *,
        subject: str,
        text: str,
        categories: list[str],
        aliases: list[str] | None = None,
        severity: str | None = None,
        affiliation: str | None = None,
        happened: str | None = None,
        contact: str | None = None,
        anonymous: bool = False,
        expires_in_days: int | None = None,
    ) -> dict[str, Any]:
        """Seal and post a warning, once (``app.client.delivery``): the entry id is fixed
        before anything is sent, a lost answer is sent again byte for byte (posting is
        idempotent on the entry id; a fresh seal would have a new nonce, and the server
        refuses different content under a known id), and a rotation between the sync and the
        POST (``stale_epoch``) is followed by one sync and a new seal of the same fields."""
        aliases = aliases or []
        body = self._payload(
            subject=subject,
            aliases=aliases,
            categories=categories,
            text=text,
            severity=severity,
            affiliation=affiliation,
            happened=happened,
            contact=contact,
            anonymous=anonymous,
        )
        days = DEFAULT_TTL_DAYS if expires_in_days is None else expires_in_days
        if not 1 <= days <= 3650:
            raise ProtocolError("bad_expiry", "a warning lives 1 to 3650 days")
        entry_id = uuid.uuid4()
        expires_at = int(time.time()) + days * DAY  # signed in the terms (§24.2)
        if anonymous:  # the nearest whole hour: the expiry must not date the post (§24.2)
            expires_at = (expires_at + HOUR // 2) // HOUR * HOUR

        def build() -> tuple[str, dict[str, Any]]:
            circle = self.circles.sync(circle_id)
            context = EnvelopeContext(ENTRY, circle_id, circle.epoch, entry_id)
            signing = signing_key_for(self.circles.identity, context, anonymous=anonymous)
            envelope = seal(body, key=circle.key, context=context, signing_key=signing)
            tag = author_tag(self.circles.identity, circle_id=circle_id, entry_id=entry_id)
            terms = sign_terms(
                signing, circle_id=circle_id, entry_id=entry_id, tag=tag, expires_at=expires_at
            )
            fields = {
                "entry_id": str(entry_id),
                "epoch": circle.epoch,
                **self._envelope_json(envelope),
                "author_tag": b64encode(tag),
                "expires_at": expires_at,
                "terms_signature": b64encode(terms),
            }
            if not anonymous:
                return f"/v1/circles/{circle_id}/entries", {**fields, "anonymous": False}
            return f"/v1/anon/circles/{circle_id}/entries", {
                **fields,
                **self._anonymous_fields(circle, entry_id, envelope.author_key),
            }

        result: dict[str, Any] = deliver(self.client, build, stale=STALE_CODES, anonymous=anonymous)
        return result

    def _anonymous_fields(
        self, circle: VerifiedCircle, object_id: uuid.UUID, author_key: bytes
    ) -> dict[str, Any]:
        """What an anonymous request carries instead of a session (§38): a token and the
        author sealed to the admins."""
        return {
            "token": self.anonymous.take(circle),
            **self.anonymous.sealed_author(circle, object_id=object_id, author_key=author_key),
        }

    @staticmethod
    def _envelope_json(envelope: Envelope) -> dict[str, str]:
        return {
            "author_key": b64encode(envelope.author_key),
            "commitment": b64encode(envelope.commitment),
            "nonce": b64encode(envelope.nonce),
            "ciphertext": b64encode(envelope.ciphertext),
            "signature": b64encode(envelope.signature),
        }

    # -- reading ---------------------------------------------------------------------

    def _author_key(self, circle: VerifiedCircle, username: str) -> bytes:
        """A named author's Ed25519 key from the member list, checked against the signed
        record's fingerprint for everyone the newest record lists."""
        cache_key = (str(circle.circle_id), username)
        if cache_key not in self._authors:
            for member in self.circles.members(circle.circle_id):
                listed = circle.record.member(member.username)
                if listed is not None and listed.fp != member.fingerprint:
                    raise ProtocolError(
                        "member_key_changed",
                        f"{member.username}'s key differs from the circle's signed record",
                    )
                self._authors[(str(circle.circle_id), member.username)] = (
                    member.identity.ed25519_public
                )
        if cache_key not in self._authors:
            raise ProtocolError("unknown_author", f"{username} never was in this circle")
        return self._authors[cache_key]

    def open_current(
        self, circle: VerifiedCircle, row: dict[str, Any]
    ) -> tuple[VerifiedCircle, ReadEntry]:
        """Open a row; when it is sealed under an epoch newer than the keys in hand (a
        rotation since the circle was synced), sync the circle's keys first and go on."""
        if row["ciphertext"] is not None and int(row["epoch"]) not in circle.keys:
            circle = self.circles.sync(circle.circle_id)
        try:
            return circle, self.open(circle, row)
        except ProtocolError as exc:
            # §23 checks the signature first (a relabelled or moved envelope is the server's
            # doing); one that verifies but whose key no sync brings is a missing key.
            if exc.code == "decryption_failed" and int(row["epoch"]) not in circle.keys:
                raise ProtocolError("missing_key", f"no key for epoch {row['epoch']}") from exc
            raise

    def open(self, circle: VerifiedCircle, row: dict[str, Any]) -> ReadEntry:
        """Verify (signature, author, context, signed terms) and decrypt one entry row."""
        if row["ciphertext"] is None:  # a tombstone: retracted or expired
            check_terms(circle.circle_id, row)
            return ReadEntry(
                row["entry_id"],
                int(row["seq"]),
                row["status"],
                None,
                [],
                [],
                None,
                None,
                None,
                None,
                None,
                None,
                int(row["corroborations"]),
                row["created_at"],
                row["expires_at"],
                row.get("author_key"),
            )
        if row["anonymous"] == (row["author"] is not None):
            raise ProtocolError("author_leak", "the server mislabelled an entry's attribution")
        envelope = _envelope(row)
        context = EnvelopeContext(
            ENTRY, circle.circle_id, int(row["epoch"]), uuid.UUID(row["entry_id"])
        )
        try:
            opened = open_envelope(envelope, keys=circle.keys, context=context)
            body = check_entry_body(opened.body)
        except CryptoError as exc:
            raise _protocol(exc) from exc
        check_terms(circle.circle_id, row)  # after the envelope: §23's order names the error
        anonymous = body["attribution"] == "anonymous"
        if anonymous != bool(row["anonymous"]):
            raise ProtocolError("author_mismatch", "the entry's attribution was changed")
        author = None
        if not anonymous:
            if self._author_key(circle, row["author"]) != envelope.author_key:
                raise ProtocolError(
                    "author_mismatch", f"the entry was not signed by {row['author']}"
                )
            author = row["author"]
        return ReadEntry(
            row["entry_id"],
            int(row["seq"]),
            row["status"],
            body["subject"],
            list(body["aliases"]),
            list(body["categories"]),
            body.get("severity"),
            body.get("affiliation"),
            body.get("happened"),
            body.get("contact"),
            body["text"],
            author,
            int(row["corroborations"]),
            row["created_at"],
            row["expires_at"],
            row["author_key"],
        )

    def pages(
        self,
        circle_id: uuid.UUID,
        *,
        after: int | None = None,
        page_size: int = 500,
        progress: Callable[[int, int], None] | None = None,
    ) -> Iterator[ReadEntry]:
        """Every entry newer than ``after`` (all when None), oldest first, page by page.

        The next page is fetched while this one is verified (libsodium releases the GIL).
        """
        circle = self.circles.sync(circle_id)
        cursor = after if after is not None else 0
        seen = 0

        def fetch(start: int) -> dict[str, Any]:
            page: dict[str, Any] = self.client.request(
                "GET",
                f"/v1/circles/{circle_id}/entries",
                params={"after": start, "limit": page_size},
            )
            return page

        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(fetch, cursor)
            while True:
                page = pending.result()
                rows = page["entries"]
                full = len(rows) == page_size
                if full:
                    pending = pool.submit(fetch, int(rows[-1]["seq"]))
                for row in rows:
                    if int(row["seq"]) <= cursor:
                        raise ProtocolError("bad_page", "the server returned entries out of order")
                    cursor = int(row["seq"])
                    circle, entry = self.open_current(circle, row)
                    yield entry
                seen += len(rows)
                if progress is not None:
                    progress(seen, max(int(page["last_seq"]) - (after or 0), seen))
                if not full:
                    return

    def show(self, circle_id: uuid.UUID, entry_id: str) -> tuple[ReadEntry, list[dict[str, Any]]]:
        circle = self.circles.sync(circle_id)
        detail = self.client.request("GET", f"/v1/circles/{circle_id}/entries/{entry_id}")
        warning = self.open(circle, detail["entry"])
        items = []
        for row in detail["corroborations"]:
            if row["ciphertext"] is None:
                continue
            context = EnvelopeContext(
                CORROBORATION,
                circle_id,
                int(row["epoch"]),
                uuid.UUID(entry_id),
                uuid.UUID(row["corroboration_id"]),
            )
            try:
                opened = open_envelope(_envelope(row), keys=circle.keys, context=context)
                check_corroboration_body(opened.body)
            except CryptoError as exc:
                raise _protocol(exc) from exc
            if row["anonymous"] == (row["author"] is not None):
                raise ProtocolError("author_leak", "a corroboration's attribution was mislabelled")
            author = None
            if not row["anonymous"]:
                if self._author_key(circle, row["author"]) != b64decode(row["author_key"]):
                    raise ProtocolError("author_mismatch", "corroboration signed by someone else")
                author = row["author"]
            items.append(
                {"text": opened.body.get("text"), "author": author, "created_at": row["created_at"]}
            )
        return warning, items

    def read_all(self, circle_id: uuid.UUID) -> list[ReadEntry]:
        """A full read of the circle: every warning, oldest first, as ``pages()`` gives it,
        from this device's copy (``cache``) brought up to date first. Only what changed
        since the copy's cursor is fetched and verified (new warnings, and changes to held
        ones: a retracted, expired, hidden or removed warning comes back as its tombstone
        and its text leaves the copy), so the cost follows the changes, not the history
        (docs/protocol.md §26.9; docs/benchmarks.md, Full read). The entries returned are
        the copy's own: read them, do not change them."""
        copy = self.sync(circle_id)
        if copy.ordered is None:  # changed since the last full read (a sync made a new copy)
            copy.ordered = sorted(copy.warnings.values(), key=attrgetter("seq"))
        out: list[ReadEntry] = []
        for held in copy.ordered:
            entry = held.memo
            if entry is None:  # new or changed: opened from the copy once, then reused
                entry = held.memo = ReadEntry.from_held(held.data)
            out.append(entry)
        return out

    def sync(self, circle_id: uuid.UUID) -> CircleCopy:
        """Bring this device's copy of the circle's warnings up to date (only changes)."""
        return sync_copy(self, circle_id)

    def check(self, circle_id: uuid.UUID, name: str) -> NameCheck:
        """Sync, then match ``name`` against every live warning this device holds."""
        return check_name(self, circle_id, name)

    # -- acting on entries -----------------------------------------------------------

    def _held_author_key(self, circle_id: uuid.UUID, entry_id: str) -> bytes:
        """The key a warning is signed with, from this device's copy after a sync (which
        asks about every change, not about this warning), so that acting on one's own
        anonymous warning sends no request naming it with the session first (§38.6). A
        warning the copy lacks, or holds without its key (a copy saved before the key was
        kept), is asked for, with the session."""
        held = self.sync(circle_id).warnings.get(entry_id)
        if held is not None and held.data.get("author_key"):
            return b64decode(held.data["author_key"])
        detail = self.client.request("GET", f"/v1/circles/{circle_id}/entries/{entry_id}")
        return b64decode(detail["entry"]["author_key"])

    def is_mine(self, circle_id: uuid.UUID, entry_id: str, author_key: bytes) -> bool:
        """Whether this member wrote the entry: signed by their identity key, or by the
        per-entry key only their identity derives (an anonymous post)."""
        context = EnvelopeContext(ENTRY, circle_id, 0, uuid.UUID(entry_id))
        return any(
            bytes(signing_key_for(self.circles.identity, context, anonymous=a).verify_key)
            == author_key
            for a in (False, True)
        )

    def corroborate(
        self, circle_id: uuid.UUID, entry_id: str, *, text: str, anonymous: bool = False
    ) -> dict[str, Any]:
        """Seal and send a corroboration, once: as ``post`` (the id is fixed; a lost answer
        is sent again as it was, a rotation in between is followed by one new seal). Never on
        your own warning (§24.1): this client refuses before sending, and the server refuses
        the tag."""
        if self.is_mine(circle_id, entry_id, self._held_author_key(circle_id, entry_id)):
            raise ProtocolError(
                "self_corroboration",
                "this is your own warning: only other members can corroborate it",
            )
        corroboration_id = uuid.uuid4()

        def build() -> tuple[str, dict[str, Any]]:
            circle = self.circles.sync(circle_id)
            context = EnvelopeContext(
                CORROBORATION, circle_id, circle.epoch, uuid.UUID(entry_id), corroboration_id
            )
            signing = signing_key_for(self.circles.identity, context, anonymous=anonymous)
            envelope = seal(
                {"v": 1, "text": text}, key=circle.key, context=context, signing_key=signing
            )
            fields = {
                "corroboration_id": str(corroboration_id),
                "epoch": circle.epoch,
                **self._envelope_json(envelope),
                "author_tag": b64encode(
                    author_tag(
                        self.circles.identity, circle_id=circle_id, entry_id=uuid.UUID(entry_id)
                    )
                ),
            }
            if not anonymous:
                path = f"/v1/circles/{circle_id}/entries/{entry_id}/corroborations"
                return path, {**fields, "anonymous": False}
            return f"/v1/anon/circles/{circle_id}/entries/{entry_id}/corroborations", {
                **fields,
                **self._anonymous_fields(circle, corroboration_id, envelope.author_key),
            }

        result: dict[str, Any] = deliver(self.client, build, stale=STALE_CODES, anonymous=anonymous)
        return result

    def retract(self, circle_id: uuid.UUID, entry_id: str) -> dict[str, Any]:
        """Sign with the key the entry was signed with: the identity key, or the re-derived
        per-entry key of an anonymous post."""
        context = EnvelopeContext(ENTRY, circle_id, 0, uuid.UUID(entry_id))
        author_key = self._held_author_key(circle_id, entry_id)
        for anonymous in (False, True):  # the same derivation as is_mine
            key = signing_key_for(self.circles.identity, context, anonymous=anonymous)
            if bytes(key.verify_key) == author_key:
                signature = sign_retraction(key, circle_id=circle_id, entry_id=uuid.UUID(entry_id))
                # An anonymous warning's retraction goes without the session: the per-entry
                # key's signature is the proof (§38.6), and a session would name the author.
                prefix = "/v1/anon/circles" if anonymous else "/v1/circles"
                result: dict[str, Any] = self.client.request(
                    "POST",
                    f"{prefix}/{circle_id}/entries/{entry_id}/retract",
                    json={"signature": b64encode(signature)},
                    anonymous=anonymous,
                )
                return result
        raise ProtocolError(
            "not_author",
            "you can retract only your own warnings; if this one is wrong, report it to the "
            "circle's admins (backchannel report)",
        )
