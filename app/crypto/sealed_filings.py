"""Sealed warnings, part two: the filing envelope and opening a match (docs/protocol.md
§36.5 to §36.7).

A filing is one signed JSON record: the warning encrypted under a fresh key ``W``; ``W``
wrapped under each name's ``f(0)``; the filer's points ``f(x)`` sealed to the circle's
moderation key; and ``W`` sealed to the filer's own X25519 key (to list, publish or
re-file it). The server sees the tags, sizes and the filer, never a name, a point or text.

An admin opens a match only after checking, for every filing: the filer's signature under
the key the circle's signed record lists for them; the circle, tag and ``k``; at least
``k`` distinct filers. Then each filer's share is checked against the Feldman commitments
sealed with it (``C_j = a_j·G``, deterministic from the name, so honest filers' agree): a
member who seals a wrong point is excluded and reported, and any ``k`` verified shares
open the match. A server that groups filings of different names, or invents one, fails at
the tag (``WrongEpoch``) or the signature (``BadSignature``). The JavaScript mirror is
``web/src/protocol/sealedfilings.js``.
"""

import hmac
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nacl.public import PrivateKey

from app.crypto import labels, ristretto
from app.crypto.circles import canonical_json, load_json, open_prefixed, seal_prefixed
from app.crypto.encoding import b64decode, b64encode
from app.crypto.entries import pad, unpad
from app.crypto.errors import DecryptionFailed, InvalidKey, UntrustedSigner, WrongEpoch
from app.crypto.identity import IdentityKeys, PublicIdentity
from app.crypto.moderation import (
    NONCE_BYTES,
    ModerationKey,
    open_box,
    seal_box,
    shared_key,
    u64,
    verify_signed,
)
from app.crypto.sealed import (
    MAX_TAGS,
    SCALAR_BYTES,
    TAG_BYTES,
    NamePolynomial,
    check_k,
    filer_point,
    interpolate,
    share_verifies,
    wrap_key,
)

MAX_BODY = 65536 + NONCE_BYTES + 16
WRAP_BYTES = NONCE_BYTES + 32 + 16  # 72
SELF_BOX_BYTES = 48 + len(labels.SEALED_SELF_PREFIX) + 32 + 32  # 139


class NotEnoughFilers(UntrustedSigner):
    """A match shown with fewer than ``k`` distinct members' verified filings."""


class NotEnoughShares(DecryptionFailed):
    """Fewer than ``k`` filers' shares verify against one set of commitments: the match
    cannot open yet (``excluded`` says which filings failed and why)."""

    def __init__(self, message: str, excluded: "Iterable[ExcludedFiling]" = ()) -> None:
        super().__init__(message)
        self.excluded = list(excluded)


@dataclass(frozen=True)
class SealedFiling:
    circle_id: uuid.UUID
    filing_id: uuid.UUID
    filer: str
    k: int
    generation: int  # the moderation key generation the points are sealed to
    tags: tuple[bytes, ...]  # sorted, each once
    wraps: tuple[bytes, ...]  # in the order of ``tags``
    points: bytes  # sealed to the moderation key
    body: bytes
    self_box: bytes

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "v": 1,
                "type": labels.SEALED_FILING_TYPE,
                "circle": self.circle_id.hex,
                "filing": self.filing_id.hex,
                "filer": self.filer,
                "k": self.k,
                "generation": self.generation,
                "tags": [b64encode(t) for t in self.tags],
                "wraps": [b64encode(w) for w in self.wraps],
                "points": b64encode(self.points),
                "body": b64encode(self.body),
                "self_box": b64encode(self.self_box),
            }
        )

    def check(self) -> None:
        check_k(self.k)
        if not 0 <= self.generation < 2**31:
            raise InvalidKey("generation out of range")
        if not 1 <= len(self.tags) <= MAX_TAGS or len(self.wraps) != len(self.tags):
            raise InvalidKey(f"a filing has 1 to {MAX_TAGS} tags, each with one wrap")
        if any(len(t) != TAG_BYTES for t in self.tags) or list(self.tags) != sorted(set(self.tags)):
            raise InvalidKey("tags are 32 bytes, sorted, each once")
        if any(len(w) != WRAP_BYTES for w in self.wraps):
            raise InvalidKey(f"a wrap is {WRAP_BYTES} bytes")
        if len(self.self_box) != SELF_BOX_BYTES:
            raise InvalidKey(f"the filer's own box is {SELF_BOX_BYTES} bytes")
        if not NONCE_BYTES + 16 + 512 <= len(self.body) <= MAX_BODY:
            raise InvalidKey("the body is out of range")
        if not 32 + NONCE_BYTES + 16 <= len(self.points) <= 4096:
            raise InvalidKey("the sealed points are out of range")
        if not self.filer or len(self.filer) > 64:
            raise InvalidKey("a filing names its filer")

    @classmethod
    def parse(cls, raw: bytes) -> "SealedFiling":
        """Strict: every field, the right types, and byte-for-byte canonical."""
        try:
            data = load_json(raw)
            fields = {
                "v", "type", "circle", "filing", "filer", "k", "generation",
                "tags", "wraps", "points", "body", "self_box",
            }  # fmt: skip
            if set(data) != fields or data["v"] != 1 or data["type"] != labels.SEALED_FILING_TYPE:
                raise InvalidKey("not a sealed filing")
            if not all(
                isinstance(data[n], int) and not isinstance(data[n], bool)
                for n in ("k", "generation")
            ) or not isinstance(data["filer"], str):
                raise InvalidKey("k and generation are integers, filer a string")
            if not isinstance(data["tags"], list) or not isinstance(data["wraps"], list):
                raise InvalidKey("tags and wraps are lists")
            filing = cls(
                circle_id=uuid.UUID(hex=data["circle"]),
                filing_id=uuid.UUID(hex=data["filing"]),
                filer=data["filer"],
                k=data["k"],
                generation=data["generation"],
                tags=tuple(b64decode(t) for t in data["tags"]),
                wraps=tuple(b64decode(w) for w in data["wraps"]),
                points=b64decode(data["points"]),
                body=b64decode(data["body"]),
                self_box=b64decode(data["self_box"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidKey("a malformed sealed filing") from exc
        filing.check()
        if filing.to_bytes() != raw:
            raise InvalidKey("the sealed filing is not in canonical form")
        return filing

    def verify_signature(self, signature: bytes, filer: PublicIdentity) -> None:
        verify_signed(
            filer.ed25519_public,
            labels.SEALED_FILING_SIGNATURE_CONTEXT + self.to_bytes(),
            signature,
            "sealed filing",
        )


def _body_ad(circle_id: uuid.UUID, filing_id: uuid.UUID) -> bytes:
    return labels.SEALED_BODY_AD_PREFIX + circle_id.bytes + filing_id.bytes


def _wrap_ad(circle_id: uuid.UUID, filing_id: uuid.UUID, tag: bytes) -> bytes:
    return labels.SEALED_WRAP_AD_PREFIX + circle_id.bytes + filing_id.bytes + tag


def _points_ad(
    circle_id: uuid.UUID, filing_id: uuid.UUID, generation: int, ephemeral: bytes, public: bytes
) -> bytes:
    return (
        labels.SEALED_SHARE_AD_PREFIX
        + circle_id.bytes
        + filing_id.bytes
        + u64(generation)
        + ephemeral
        + public
    )


def _self_prefix(circle_id: uuid.UUID, filing_id: uuid.UUID) -> bytes:
    return labels.SEALED_SELF_PREFIX + circle_id.bytes + filing_id.bytes


def seal_filing(
    payload: Mapping[str, Any],
    *,
    circle_id: uuid.UUID,
    filing_id: uuid.UUID,
    filer: str,
    identity: IdentityKeys,
    polynomials: Sequence[NamePolynomial],
    moderation_public: bytes,
    generation: int,
) -> tuple[SealedFiling, bytes]:
    """The filing and the filer's signature over it. ``payload`` is a warning body (§19.1)."""
    if not polynomials or len({p.k for p in polynomials}) != 1:
        raise InvalidKey("a filing needs polynomials of one k")
    ordered = sorted(polynomials, key=lambda p: p.tag)
    file_key = secrets.token_bytes(32)
    body = seal_box(file_key, pad(canonical_json(dict(payload))), _body_ad(circle_id, filing_id))
    wraps = tuple(
        seal_box(p.wrap_key, file_key, _wrap_ad(circle_id, filing_id, p.tag)) for p in ordered
    )
    x = filer_point(circle_id, filer)
    points_plain = canonical_json(
        {
            "filing": filing_id.hex,
            "points": [b64encode(p.share(x)) for p in ordered],
            "commitments": [[b64encode(c) for c in p.commitments] for p in ordered],
        }
    )
    ephemeral = PrivateKey.generate()
    ephemeral_public = bytes(ephemeral.public_key)
    ad = _points_ad(circle_id, filing_id, generation, ephemeral_public, moderation_public)
    points = ephemeral_public + seal_box(
        shared_key(bytes(ephemeral), moderation_public), points_plain, ad
    )
    self_box = seal_prefixed(
        file_key,
        prefix=_self_prefix(circle_id, filing_id),
        recipient=identity.public().x25519_public,
    )
    filing = SealedFiling(
        circle_id=circle_id,
        filing_id=filing_id,
        filer=filer,
        k=ordered[0].k,
        generation=generation,
        tags=tuple(p.tag for p in ordered),
        wraps=wraps,
        points=points,
        body=body,
        self_box=self_box,
    )
    filing.check()
    signature = identity.signing_key.sign(
        labels.SEALED_FILING_SIGNATURE_CONTEXT + filing.to_bytes()
    ).signature
    return filing, bytes(signature)


def _open_body(filing: SealedFiling, file_key: bytes) -> dict[str, Any]:
    padded = open_box(file_key, filing.body, _body_ad(filing.circle_id, filing.filing_id), "body")
    try:
        payload = load_json(unpad(padded))
    except ValueError as exc:
        raise DecryptionFailed("the sealed warning is not JSON") from exc
    if not isinstance(payload, dict):
        raise DecryptionFailed("the sealed warning is not an object")
    return payload


def open_own(filing: SealedFiling, identity: IdentityKeys) -> dict[str, Any]:
    """The filer reads their own filing through the box sealed to their key."""
    file_key = open_prefixed(
        filing.self_box,
        prefix=_self_prefix(filing.circle_id, filing.filing_id),
        identity=identity,
        what="sealed filing",
        elsewhere="another filing",
    )
    return _open_body(filing, file_key)


@dataclass(frozen=True)
class Share:
    """One filer's point on one name's polynomial and the commitments they sealed with it."""

    point: bytes  # f(x)
    commitments: tuple[bytes, ...]  # C_j = a_j·G, j = 0 … k-1


def open_points(filing: SealedFiling, key: ModerationKey) -> dict[bytes, Share]:
    """An admin opens a filing's points and commitments: ``{tag: Share}``."""
    sealed = filing.points
    shared = shared_key(bytes(key), sealed[:32])
    ad = _points_ad(
        filing.circle_id, filing.filing_id, filing.generation, sealed[:32], key.public_key
    )
    plain = open_box(shared, sealed[32:], ad, "sealed points")
    try:
        data = load_json(plain)
        if set(data) != {"filing", "points", "commitments"}:
            raise DecryptionFailed("the sealed points are malformed")
        if data["filing"] != filing.filing_id.hex:
            raise WrongEpoch("the points belong to another filing")
        values = [b64decode(v) for v in data["points"]]
        commitments = [tuple(b64decode(c) for c in row) for row in data["commitments"]]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DecryptionFailed("the sealed points are malformed") from exc
    if (
        len(values) != len(filing.tags)
        or len(commitments) != len(filing.tags)
        or any(len(v) != SCALAR_BYTES for v in values)
        or any(len(row) != filing.k or any(len(c) != 32 for c in row) for row in commitments)
    ):
        raise DecryptionFailed("one point and k commitments per tag, 32 bytes each")
    return {
        tag: Share(value, row)
        for tag, value, row in zip(filing.tags, values, commitments, strict=True)
    }


@dataclass(frozen=True)
class OpenedFiling:
    filing: SealedFiling
    payload: dict[str, Any]


# Why a filing in a match was left out (§36.7): its points do not open under the moderation
# key; its share fails its own commitments; it committed to another polynomial than the one
# k verified shares agree on; or its wrap or body does not open under the key they give.
EXCLUDED_REASONS = ("unreadable_share", "bad_share", "other_commitments", "decryption_failed")


@dataclass(frozen=True)
class ExcludedFiling:
    filing: SealedFiling
    reason: str


@dataclass(frozen=True)
class MatchOpening:
    opened: list[OpenedFiling]
    excluded: list[ExcludedFiling]


def open_match(
    filings: Sequence[tuple[SealedFiling, bytes]],
    *,
    circle_id: uuid.UUID,
    tag: bytes,
    k: int,
    identities: Mapping[str, PublicIdentity],
    moderation_keys: Mapping[int, ModerationKey],
) -> MatchOpening:
    """Verify a match the server shows and open every filing in it (§36.7).

    ``identities``: the current members the circle's newest signed record lists, by
    username; a filer outside it (removed, or invented) is refused. ``k``: the circle's
    current ``k`` from its verified settings chain.

    What the server controls (which filings, under which tag and ``k``) is checked first and
    refused as a whole. What a member controls (the share and commitments they sealed, their
    wrap) is checked per filing: a filing that fails is excluded and reported, and the match
    opens with any ``k`` distinct filers whose shares verify against the same commitments
    (``NotEnoughShares`` if there are fewer)."""
    check_k(k)
    filers: set[str] = set()
    for filing, signature in filings:
        identity = identities.get(filing.filer)
        if identity is None:
            raise UntrustedSigner(f"{filing.filer} is not a member the circle's record lists")
        filing.verify_signature(signature, identity)
        if filing.circle_id != circle_id or filing.k != k or tag not in filing.tags:
            raise WrongEpoch("a filing of another circle, name or k")
        filers.add(filing.filer)
    if len(filers) < k:
        raise NotEnoughFilers(f"{len(filers)} distinct filers; this circle needs {k}")
    excluded: dict[uuid.UUID, ExcludedFiling] = {}
    # commitments -> {filer: point}: the filers whose share verifies against them
    groups: dict[tuple[bytes, ...], dict[str, bytes]] = {}
    commitments_of: dict[uuid.UUID, tuple[bytes, ...]] = {}
    for filing, _ in filings:
        keys = moderation_keys.get(filing.generation)
        if keys is None:
            raise DecryptionFailed(f"no moderation key of generation {filing.generation}")
        try:
            share = open_points(filing, keys)[tag]
        except (DecryptionFailed, WrongEpoch):
            excluded[filing.filing_id] = ExcludedFiling(filing, "unreadable_share")
            continue
        x = filer_point(circle_id, filing.filer)
        if not share_verifies(x, share.point, share.commitments):
            excluded[filing.filing_id] = ExcludedFiling(filing, "bad_share")
            continue
        commitments_of[filing.filing_id] = share.commitments
        groups.setdefault(share.commitments, {}).setdefault(filing.filer, share.point)
    if not groups:
        raise NotEnoughShares(f"no share verifies; this circle needs {k}", excluded.values())
    # The commitments most distinct filers verify against (ties: the smallest bytes), so a
    # spoiler's own commitments never outvote k honest filers.
    commitments, verified = min(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    if len(verified) < k:
        raise NotEnoughShares(
            f"{len(verified)} verified shares; this circle needs {k}", excluded.values()
        )
    points = [(filer_point(circle_id, filer), y) for filer, y in sorted(verified.items())[:k]]
    constant = interpolate(points)
    if not hmac.compare_digest(ristretto.mul_base(constant), commitments[0]):
        raise DecryptionFailed("the interpolated constant is not the committed one")
    key = wrap_key(constant)
    opened = []
    for filing, _ in filings:
        if filing.filing_id in excluded:
            continue
        if commitments_of[filing.filing_id] != commitments:
            excluded[filing.filing_id] = ExcludedFiling(filing, "other_commitments")
            continue
        try:
            wrap = filing.wraps[filing.tags.index(tag)]
            file_key = open_box(key, wrap, _wrap_ad(circle_id, filing.filing_id, tag), "wrap")
            opened.append(OpenedFiling(filing, _open_body(filing, file_key)))
        except DecryptionFailed:
            excluded[filing.filing_id] = ExcludedFiling(filing, "decryption_failed")
    return MatchOpening(opened, list(excluded.values()))
