"""Circles for the SDK: every record, wrap and key is verified here before it is used."""

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.client import rotation
from app.client.deletion import delete_circle, read_tombstone
from app.client.errors import ProtocolError, protocol_error
from app.client.sdk import Client, _parse_identity
from app.client.trust import TrustStore
from app.crypto import (
    CryptoError,
    IdentityKeys,
    PublicIdentity,
    b64decode,
    b64encode,
    normalise_fingerprint,
)
from app.crypto.circles import (
    ADMIN_ROLES,
    CircleKey,
    Invite,
    KeyRecord,
    RecordMember,
    open_circle_meta,
    open_previous_key,
    open_wrap,
    seal_circle_meta,
    seal_wrap,
    verify_record,
)
from app.crypto.errors import RecordChainBroken

__all__ = ["Circles", "Member", "VerifiedCircle"]

# The other client modules take the mapping from here.
_protocol = protocol_error


def _admin_set(record: KeyRecord) -> frozenset[tuple[str, str]]:
    return frozenset((m.user, m.fp) for m in record.members if m.role in ADMIN_ROLES)


def _admins_since(chain: list[KeyRecord], known: int) -> int:
    """Where the newest admin set began: a moderation key made before that is stale.

    ``chain`` starts at record 0 or at the pinned record; with the pinned record first and
    nothing known about it, the pinned record's own seq is the safe (later) answer.
    """
    since = known if known >= 0 else chain[0].seq
    for previous, record in itertools.pairwise(chain):
        if _admin_set(record) != _admin_set(previous):
            since = record.seq
    return since


def _joined_at(chain: list[KeyRecord], known: dict[str, int]) -> dict[str, int]:
    """For each member, the seq of the record that last added them to the member set."""
    joined = dict(known)
    previous: set[str] | None = None
    for record in chain:
        users = {m.user for m in record.members}
        if previous is not None or record.seq == 0:
            for user in users - (previous or set()):
                joined[user] = record.seq
        previous = users
    return {user: seq for user, seq in joined.items() if user in (previous or set())}


@dataclass(frozen=True)
class VerifiedCircle:
    circle_id: uuid.UUID
    record: KeyRecord  # newest verified record
    keys: dict[int, CircleKey]  # every epoch's key, verified against the records
    name: str | None
    rotation_due: bool
    role: str
    joined: dict[str, int]  # user -> seq of the record that last added them
    admins_since: int = 0  # seq where the newest admin set began (see _admins_since)

    @property
    def epoch(self) -> int:
        return self.record.epoch

    @property
    def key(self) -> CircleKey:
        return self.keys[self.record.epoch]


@dataclass(frozen=True)
class Member:
    username: str
    role: str
    status: str
    fingerprint: str  # computed here from the keys, not taken from the server
    identity: PublicIdentity
    departure: dict[str, str] | None = None


class Circles:
    def __init__(
        self, client: Client, *, username: str, identity: IdentityKeys, trust: TrustStore
    ) -> None:
        self.client = client
        self.username = username
        self.identity = identity
        self.trust = trust
        self.fingerprint = identity.public().fingerprint()

    # -- reading and verifying -----------------------------------------------------

    def list_circles(self) -> list[dict[str, Any]]:
        circles: list[dict[str, Any]] = self.client.request("GET", "/v1/circles")
        out = []
        for c in circles:
            name = None
            if c.get("deletion") is not None:
                cid = uuid.UUID(c["circle_id"])
                out.append(
                    {
                        "circle_id": c["circle_id"],
                        "name": self.trust.pin(str(cid)).name,
                        "role": c["role"],
                        "status": "deleted",
                        "epoch": c["epoch"],
                        **read_tombstone(self, cid, c["deletion"]),
                    }
                )
                continue
            if c["status"] == "active":
                try:
                    name = self.sync(uuid.UUID(c["circle_id"])).name
                except ProtocolError:
                    name = None
            out.append(
                {
                    "circle_id": c["circle_id"],
                    "name": name,
                    "role": c["role"],
                    "status": c["status"],
                    "epoch": c["epoch"],
                }
            )
        return out

    def sync(self, circle_id: uuid.UUID) -> VerifiedCircle:
        """Fetch and verify the record chain and every key this member may hold."""
        cid = str(circle_id)
        info = self.client.request("GET", f"/v1/circles/{cid}")
        pin = self.trust.pin(cid)
        after = pin.seq - 1 if pin.seq >= 0 else -1
        rows = self.client.request("GET", f"/v1/circles/{cid}/records", params={"after": after})
        try:
            anchor = None
            if pin.inviter_fingerprint is not None:
                if pin.invite_record is None:
                    raise ProtocolError("untrusted_circle", "the pinned invite has no anchor")
                anchor = (b64decode(pin.invite_record), pin.inviter_fingerprint)
            record_chain = self._verify_chain(circle_id, rows, pin.seq, pin.record, anchor)
            joined = _joined_at(record_chain, pin.joined)
            admins_since = _admins_since(record_chain, pin.admins_since if pin.seq >= 0 else -1)
        except CryptoError as exc:
            raise _protocol(exc) from exc
        latest = record_chain[-1]
        mine = latest.member(self.username)
        if mine is None or mine.fp != self.fingerprint:
            raise ProtocolError(
                "not_in_record", "the newest signed record does not list you with your key"
            )
        if latest.epoch < pin.epoch:
            raise ProtocolError("rollback", "the server showed an older epoch than before")
        key_ids = {r.epoch: r.key_id for r in record_chain}
        keys = self._open_keys(circle_id, latest, key_ids)
        name = None
        if info.get("meta") is not None and info.get("meta_epoch") in keys:
            try:
                meta = open_circle_meta(
                    b64decode(info["meta"]),
                    keys[info["meta_epoch"]],
                    circle_id=circle_id,
                    epoch=info["meta_epoch"],
                )
                name = meta.get("name")
            except CryptoError as exc:
                raise _protocol(exc) from exc
        pin.seq, pin.record, pin.epoch = latest.seq, latest.to_bytes().decode(), latest.epoch
        pin.name = name  # so a deleted circle can still be named
        pin.inviter_fingerprint = pin.invite_record = None
        pin.joined = joined
        pin.admins_since = admins_since
        self.trust.save()
        return VerifiedCircle(
            circle_id,
            latest,
            keys,
            name,
            bool(info["rotation_due"]),
            mine.role,
            joined,
            admins_since,
        )

    def _verify_chain(
        self,
        circle_id: uuid.UUID,
        rows: list[dict[str, Any]],
        pinned_seq: int,
        pinned_record: str,
        anchor: tuple[bytes, str] | None,
    ) -> list[KeyRecord]:
        if pinned_seq >= 0:
            if not rows or rows[0]["seq"] != pinned_seq:
                raise ProtocolError(
                    "rollback", "the server no longer shows the newest record this device verified"
                )
            if rows[0]["record"] != pinned_record:
                raise ProtocolError("fork", "the server shows a different history than before")
        previous: KeyRecord | None = (
            KeyRecord.parse(pinned_record.encode()) if pinned_seq >= 0 else None
        )
        chain: list[KeyRecord] = [previous] if previous is not None else []
        # A joiner's first verification must pass through the record named in the invite,
        # with the inviter listed there as an admin; once a record is pinned, the pin is
        # the trust anchor.
        vouched = anchor is None or pinned_seq >= 0
        for row in rows[1:] if pinned_seq >= 0 else rows:
            record = KeyRecord.parse(row["record"].encode())
            if record.circle_id != circle_id:
                raise RecordChainBroken("a record of another circle")
            signer = _parse_identity(row["signer_identity"])
            verify_record(previous, record, b64decode(row["signature"]), signer)
            if not vouched and anchor is not None and record.hash() == anchor[0]:
                vouched = any(m.fp == anchor[1] and m.role in ADMIN_ROLES for m in record.members)
            chain.append(record)
            previous = record
        if not chain:
            raise ProtocolError("rollback", "the server returned no records")
        if not vouched:
            raise ProtocolError(
                "untrusted_circle",
                "this circle's history does not pass through what your inviter saw, "
                "or they are not an admin in it",
            )
        return chain

    def _open_keys(
        self, circle_id: uuid.UUID, latest: KeyRecord, key_ids: dict[int, bytes]
    ) -> dict[int, CircleKey]:
        rows = self.client.request("GET", f"/v1/circles/{circle_id}/keys")
        by_epoch = {int(r["epoch"]): r for r in rows}
        for epoch, row in by_epoch.items():
            expected = key_ids.get(epoch)
            if expected is not None and b64decode(row["key_id"]) != expected:
                raise ProtocolError(
                    "untrusted_signer", f"epoch {epoch}'s key id differs from the signed record"
                )
        current = by_epoch.get(latest.epoch)
        if current is None or current["wrap"] is None:
            raise ProtocolError(
                "missing_key", f"no key for epoch {latest.epoch} was shared with you"
            )
        try:
            key = open_wrap(
                b64decode(current["wrap"]),
                circle_id=circle_id,
                epoch=latest.epoch,
                identity=self.identity,
                expected_key_id=key_ids[latest.epoch],
            )
            keys = {latest.epoch: key}
            for epoch in range(latest.epoch, 0, -1):
                box = by_epoch.get(epoch, {}).get("prev_key_box")
                if box is None or (epoch - 1 not in key_ids and epoch - 1 not in by_epoch):
                    raise ProtocolError("missing_key", f"epoch {epoch - 1}'s key is missing")
                expected = key_ids.get(epoch - 1) or b64decode(by_epoch[epoch - 1]["key_id"])
                keys[epoch - 1] = open_previous_key(
                    b64decode(box),
                    keys[epoch],
                    circle_id=circle_id,
                    epoch=epoch,
                    expected_key_id=expected,
                )
        except CryptoError as exc:
            raise _protocol(exc) from exc
        return keys

    def members(self, circle_id: uuid.UUID, *, trusted: KeyRecord | None = None) -> list[Member]:
        """The member list, each identity verified (or matched to ``trusted``'s fingerprint)."""
        rows = self.client.request("GET", f"/v1/circles/{circle_id}/members")
        out = []
        for row in rows:
            listed = trusted.member(row["username"]) if trusted is not None else None
            identity = _parse_identity(
                row["identity"], verified_fp=listed.fp if listed is not None else None
            )
            out.append(
                Member(
                    row["username"],
                    row["role"],
                    row["status"],
                    identity.fingerprint(),
                    identity,
                    row.get("departure"),
                )
            )
        return out

    # -- creating and joining ------------------------------------------------------

    def create(self, name: str, description: str = "") -> VerifiedCircle:
        circle_id = uuid.uuid4()
        key = CircleKey.generate()
        record = KeyRecord(
            circle_id,
            0,
            0,
            key.key_id,
            (RecordMember(self.username, self.fingerprint, "owner"),),
            None,
            self.username,
        )
        meta = seal_circle_meta(
            key, circle_id=circle_id, epoch=0, meta={"name": name, "description": description}
        )
        self.client.request(
            "POST",
            "/v1/circles",
            json={
                "circle_id": str(circle_id),
                "record": record.to_bytes().decode(),
                "signature": b64encode(record.sign(self.identity)),
                "wrap": b64encode(
                    seal_wrap(
                        key,
                        circle_id=circle_id,
                        epoch=0,
                        recipient=self.identity.public().x25519_public,
                    )
                ),
                "meta": b64encode(meta),
            },
        )
        return self.sync(circle_id)

    def create_invite(
        self,
        circle_id: uuid.UUID,
        *,
        role: str = "member",
        max_uses: int = 1,
        expires_in_days: int = 7,
    ) -> tuple[Invite, dict[str, Any]]:
        verified = self.sync(circle_id)
        invite = Invite.create(
            circle_id=circle_id,
            inviter_fingerprint=self.fingerprint,
            record_hash=verified.record.hash(),
        )
        created = self.client.request(
            "POST",
            f"/v1/circles/{circle_id}/invites",
            json={
                "invite_id": str(invite.invite_id),
                "secret_hash": b64encode(invite.secret_hash),
                "role": role,
                "max_uses": max_uses,
                "expires_in_days": expires_in_days,
            },
        )
        return invite, created

    def join(self, invite_text: str) -> dict[str, Any]:
        """Redeem an invite; check the inviter is who the invite says before trusting anything."""
        try:
            invite = Invite.parse(invite_text)
        except CryptoError as exc:
            raise ProtocolError(
                "bad_invite",
                f"{exc}: paste the whole invite you were sent "
                "(bcinvite1… or https://…/join#bcinvite1…)",
            ) from exc
        result: dict[str, Any] = self.client.request(
            "POST",
            "/v1/invites/redeem",
            json={
                "circle_id": str(invite.circle_id),
                "invite_id": str(invite.invite_id),
                "secret": b64encode(invite.secret),
            },
        )
        inviter = _parse_identity(result["inviter"]["identity"])
        if inviter.fingerprint() != invite.inviter_fingerprint:
            raise ProtocolError("inviter_mismatch", "the server says someone else made this invite")
        pin = self.trust.pin(str(invite.circle_id))
        pin.inviter_fingerprint = invite.inviter_fingerprint
        pin.invite_record = b64encode(invite.record_hash)
        self.trust.save()
        return {"circle_id": str(invite.circle_id), "status": result["status"]}

    # -- admin actions -------------------------------------------------------------

    def _ready(self, circle_id: uuid.UUID) -> VerifiedCircle:
        """Sync; if someone left, rotate first (the server refuses other changes until then)."""
        circle = self.sync(circle_id)
        if circle.rotation_due:
            self.rotate(circle_id)
            circle = self.sync(circle_id)
        return circle

    def _same_epoch_successor(
        self, latest: KeyRecord, members: tuple[RecordMember, ...]
    ) -> KeyRecord:
        """The next record in the same epoch (same key), signed by this admin."""
        return KeyRecord(
            latest.circle_id,
            latest.seq + 1,
            latest.epoch,
            latest.key_id,
            members,
            latest.hash(),
            self.username,
        )

    def _signed(self, record: KeyRecord) -> dict[str, str]:
        return {
            "record": record.to_bytes().decode(),
            "signature": b64encode(record.sign(self.identity)),
        }

    def confirm(
        self,
        circle_id: uuid.UUID,
        username: str,
        *,
        fingerprint: str | None = None,
        ask: Callable[[Member], bool] | None = None,
    ) -> dict[str, Any]:
        """Admit a pending member after comparing their fingerprint; seal the key to them."""
        circle = self._ready(circle_id)
        target = next(
            (
                m
                for m in self.members(circle_id)
                if m.username == username and m.status == "pending"
            ),
            None,
        )
        if target is None:
            raise ProtocolError("not_pending", f"{username} is not waiting for confirmation")
        if target.role not in ("member", "admin"):  # invites never grant ownership
            raise ProtocolError("bad_role", f"the server asks to admit {username} as {target.role}")
        if fingerprint is not None:
            if normalise_fingerprint(fingerprint) != target.fingerprint:
                raise ProtocolError(
                    "fingerprint_mismatch",
                    f"the fingerprint you were given is not {username}'s key: not confirming. "
                    f"Ask {username} to read their fingerprint to you again, in person or on a "
                    "call you trust",
                )
        elif ask is None or not ask(target):
            raise ProtocolError("not_confirmed", "fingerprint not confirmed")
        latest = circle.record
        members = tuple(
            sorted((*latest.members, RecordMember(username, target.fingerprint, target.role)))
        )
        record = self._same_epoch_successor(latest, members)
        wrap = seal_wrap(
            circle.key,
            circle_id=circle_id,
            epoch=latest.epoch,
            recipient=target.identity.x25519_public,
        )
        result: dict[str, Any] = self.client.request(
            "POST",
            f"/v1/circles/{circle_id}/members/{username}/confirm",
            json={**self._signed(record), "wrap": b64encode(wrap)},
        )
        self.sync(circle_id)
        return result

    def set_role(self, circle_id: uuid.UUID, username: str, role: str) -> dict[str, Any]:
        circle = self._ready(circle_id)
        latest = circle.record
        if latest.member(username) is None:
            raise ProtocolError("not_member", f"{username} is not an active member")
        members = tuple(
            RecordMember(m.user, m.fp, role if m.user == username else m.role)
            for m in latest.members
        )
        record = self._same_epoch_successor(latest, members)
        result: dict[str, Any] = self.client.request(
            "POST",
            f"/v1/circles/{circle_id}/members/{username}/role",
            json={**self._signed(record), "role": role},
        )
        self.sync(circle_id)
        return result

    def _rotation(self, circle: VerifiedCircle, *, without: str | None) -> dict[str, Any]:
        """Epoch n+1 for the members the signed record vouches for (client/rotation.py)."""
        return rotation.rotation_body(self, circle, without=without)

    def remove(self, circle_id: uuid.UUID, username: str) -> dict[str, Any]:
        """Remove someone; if the signed record lists them, the key rotates in the same request."""
        return rotation.remove(self, circle_id, username)

    def rotate(self, circle_id: uuid.UUID) -> dict[str, Any]:
        return rotation.rotate(self, circle_id)

    def delete(self, circle_id: uuid.UUID) -> dict[str, Any]:
        """As an owner: delete the circle for everyone (a signed statement, §16.9)."""
        return delete_circle(self, circle_id)

    def leave(self, circle_id: uuid.UUID) -> dict[str, Any]:
        """Leave with a signed departure (or withdraw a pending request, which needs none)."""
        return rotation.leave(self, circle_id)

    def invites(self, circle_id: uuid.UUID) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.client.request(
            "GET", f"/v1/circles/{circle_id}/invites"
        )
        return result

    def revoke_invite(self, circle_id: uuid.UUID, invite_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.client.request(
            "POST", f"/v1/circles/{circle_id}/invites/{invite_id}/revoke"
        )
        return result
