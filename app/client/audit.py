"""Verifying a circle's audit log: records, RFC 6962 tree, signed tree head, pinned history.

``Audit.verify`` trusts nothing the server says until it has checked it:

1. every record's position, ``seq``, event hash and ``prev`` link;
2. every leaf hash and the root, against the tree head the server signed;
3. the tree head's signature, under the server key this device pinned (a new key
   only if the pinned key signed its succession);
4. a consistency proof from the tree head this device pinned last time;
5. every admin signature inside the records: key records (through their hashes),
   moderation key records, decisions, token issuance keys; and every author signature:
   retractions and the signed terms an expiry relies on (``audit_entries``);
6. one token issuance key per epoch, and it is the key this device took its tokens under
   (``audit_issuance``: else ``key_partition``).

Then it pins the new head: its size and root, the tree's frontier (one hash per set bit of
the size), the last record's hash and what step 5 carries (each case's decision chain, the
filed cases, each epoch's issuance key). The next verify is **incremental**: only the
records since the pin are fetched, chained to the last pinned one, and their leaves extend
the frontier to the new signed root, after the consistency proof from the pinned head
(docs/protocol.md §33.6). ``full=True`` (the CLI's ``--full``) fetches and checks every
record again, against the pinned root too. State lives in ``BACKCHANNEL_HOME/audit.json`` (0600).
"""

import hmac
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.client import audit_view
from app.client.anon import TokenStore, keys_used, shared_stock
from app.client.audit_entries import check_entry_record
from app.client.audit_issuance import check_issuance_record, check_keys_used
from app.client.circles import Circles, VerifiedCircle
from app.client.errors import AuditFailure
from app.client.moderation import Moderation
from app.client.profile import home, write_private
from app.client.sdk import _parse_identity
from app.crypto import CryptoError, PublicIdentity, b64decode, b64encode, merkle
from app.crypto.audit import (
    TreeHead,
    verify_succession,
)
from app.crypto.circles import ADMIN_ROLES, KeyRecord, event_hash, load_json, verify_record
from app.crypto.decisions import (
    Decision,
)

AUDIT_FILE = "audit.json"
PAGE = 1000


@dataclass
class AuditPins:
    """Per server: the pinned tree-head key; per circle: the last verified head and leaves."""

    server_keys: dict[str, str] = field(default_factory=dict)
    circles: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def load(cls, directory: Path | None = None) -> "AuditPins":
        path = (directory or home()) / AUDIT_FILE
        try:
            raw = json.loads(path.read_text())
            return cls(raw.get("server_keys", {}), raw.get("circles", {}), path)
        except FileNotFoundError:
            return cls(path=path)

    @classmethod
    def in_memory(cls) -> "AuditPins":
        return cls()

    def save(self) -> None:
        if self.path is None:
            return
        data = {"server_keys": self.server_keys, "circles": self.circles}
        write_private(self.path, json.dumps(data).encode())


@dataclass(frozen=True)
class Record:
    seq: int
    body: dict[str, Any]
    raw: bytes
    leaf: bytes


@dataclass
class _SignatureState:
    """What step 9 carries from record to record, kept in the pin between verifies."""

    cases: dict[str, tuple[int, bytes | None]] = field(default_factory=dict)  # seen, last hash
    filed: dict[str, str] = field(default_factory=dict)  # case -> b64 case_hash when filed
    issuance: dict[str, str] = field(default_factory=dict)  # epoch -> b64 token key


@dataclass(frozen=True)
class _Grown:
    """The verified tree's frontier and the records fetched to reach it."""

    hashes: list[bytes]
    records: list[Record]


class Audit:
    def __init__(
        self, circles: Circles, pins: AuditPins, *, tokens: TokenStore | None = None
    ) -> None:
        self.circles = circles
        self.client = circles.client
        self.pins = pins
        self.moderation = Moderation(circles)
        self.tokens = tokens if tokens is not None else shared_stock(circles)  # keys used
        # Key records this object verified, per circle, and the last one's text as served.
        self._key_records: dict[uuid.UUID, tuple[list[KeyRecord], str]] = {}

    # -- fetching --------------------------------------------------------------------------

    def fetch_records(self, circle_id: uuid.UUID, size: int, start: int = 0) -> list[Record]:
        """Records ``start`` .. ``size - 1``, each checked against its stored hashes."""
        out: list[Record] = []
        after = start - 1
        while start + len(out) < size:
            rows = self.client.request(
                "GET",
                f"/v1/circles/{circle_id}/audit/records",
                params={"after": after, "limit": PAGE},
            )
            if not rows:
                break
            for row in rows:
                position = start + len(out)
                if position >= size:
                    break
                seq = int(row["seq"])
                if seq < position:
                    raise AuditFailure(
                        "reordered", f"record {seq} appears again at position {position}"
                    )
                if seq > position:
                    if any(int(later["seq"]) == position for later in rows):
                        raise AuditFailure(
                            "reordered", f"record {seq} comes before record {position}"
                        )
                    raise AuditFailure(
                        "missing_record",
                        f"record {position} is missing: the server's next record is {seq}",
                    )
                raw = row["body"].encode("utf-8")
                leaf = merkle.leaf_hash(raw)
                if not hmac.compare_digest(leaf, b64decode(row["leaf_hash"])) or not (
                    hmac.compare_digest(event_hash(raw), b64decode(row["hash"]))
                ):
                    raise AuditFailure(
                        "changed_record",
                        f"record {seq} differs from the hashes stored when it was appended",
                    )
                try:
                    body = load_json(raw)
                except CryptoError as exc:
                    raise AuditFailure("changed_record", f"record {seq} is not JSON") from exc
                out.append(Record(seq, body, raw, leaf))
                after = seq
        if start + len(out) < size:
            raise AuditFailure(
                "missing_record",
                f"the tree head covers {size} records but the server returned {start + len(out)}",
            )
        return out

    def _server_key(self, head: dict[str, Any]) -> bytes:
        """The key that signed this head: the pinned one, or a successor the pinned one named.

        Nothing is pinned here: ``verify`` pins the key with the head, once all of it verified.
        """
        offered = b64decode(head["public_key"])
        pinned_text = self.pins.server_keys.get(self.client.base_url)
        if pinned_text is None:  # first use: pinned if this head verifies
            return offered
        pinned = b64decode(pinned_text)
        if hmac.compare_digest(pinned, offered):
            return pinned
        keys = self.client.request("GET", "/v1/server/keys")["keys"]
        current = pinned
        for row in keys:
            public = b64decode(row["public_key"])
            signature = row.get("succession_signature")
            if hmac.compare_digest(public, current) or signature is None:
                continue
            try:
                verify_succession(current, public, row["not_before"], b64decode(signature))
            except CryptoError:
                continue
            current = public
            if hmac.compare_digest(current, offered):
                return offered
        raise AuditFailure(
            "unknown_server_key",
            "the tree head is signed by a key the server never announced from the pinned one",
        )

    # -- verifying -------------------------------------------------------------------------

    def verify(self, circle_id: uuid.UUID, *, full: bool = False) -> dict[str, Any]:
        """Verify the log (module docstring). With a head pinned, only the records since it
        are fetched (their leaves extend the pinned tree's frontier to the new root); with
        ``full``, or a pin from before frontiers, every record is fetched and checked again."""
        circle = self.circles.sync(circle_id)
        used = keys_used(self.tokens, circle_id)  # before the head: its record is under it
        head_row = self.client.request("GET", f"/v1/circles/{circle_id}/audit/head")
        try:
            head = TreeHead.parse(head_row["tree_head"].encode())
        except CryptoError as exc:
            raise AuditFailure("bad_tree_head", str(exc)) from exc
        if head.circle_id != circle_id:
            raise AuditFailure("bad_tree_head", "the tree head is for another circle")
        key = self._server_key(head_row)
        try:
            head.verify_signature(b64decode(head_row["signature"]), key)
        except CryptoError as exc:
            raise AuditFailure(
                "bad_tree_head", "the tree head's signature does not verify"
            ) from exc

        pin = self.pins.circles.get(str(circle_id))
        # A pin from before frontiers or issuance keys: fetch everything once more.
        incremental = pin is not None and "frontier" in pin and "issuance" in pin and not full
        if incremental:
            assert pin is not None
            frontier, state = self._incremental(circle_id, head, pin)
            records = frontier.records
        else:
            records = self.fetch_records(circle_id, head.size)  # names a gap in the middle first
            if pin is not None and head.size < int(pin["size"]):
                raise AuditFailure(
                    "rolled_back",
                    f"the server's log has {head.size} records; this device verified {pin['size']}",
                )
            if pin is not None:  # first: it names exactly which verified record changed
                self._check_pinned(pin, records)
            self.check_chain(records, None)
            tree = merkle.MerkleTree.from_leaf_hashes(r.leaf for r in records)
            if not hmac.compare_digest(tree.root(), head.root):
                raise AuditFailure(
                    "root_mismatch",
                    "the records do not hash to the signed tree head: a record was changed, "
                    "dropped or inserted",
                )
            if pin is not None:
                self._check_consistency(circle_id, pin, head)
            frontier = _Grown(merkle.frontier(tree), records)
            state = _SignatureState()
        signatures = self._check_signatures(circle, records, state)
        check_keys_used(state.issuance, used)
        self.pins.server_keys[self.client.base_url] = b64encode(key)
        last = event_hash(records[-1].raw) if records else None
        self.pins.circles[str(circle_id)] = {
            "size": head.size,
            "root": b64encode(head.root),
            "frontier": b64encode(b"".join(frontier.hashes)),
            "last": b64encode(last) if last is not None else (pin or {}).get("last"),
            "cases": {
                k: [n, None if h is None else b64encode(h)] for k, (n, h) in state.cases.items()
            },
            "filed": state.filed,
            "issuance": state.issuance,
        }
        self.pins.save()
        return {
            "ok": True,
            "tree_size": head.size,
            "root": head.root.hex(),
            "new_records": len(records),
            "signatures_checked": signatures,
        }

    def _check_consistency(self, circle_id: uuid.UUID, pin: dict[str, Any], head: TreeHead) -> None:
        proof = self.client.request(
            "GET",
            f"/v1/circles/{circle_id}/audit/consistency",
            params={"first": int(pin["size"]), "second": head.size},
        )
        try:
            merkle.verify_consistency(
                int(pin["size"]),
                head.size,
                b64decode(pin["root"]),
                head.root,
                [b64decode(p) for p in proof["proof"]],
            )
        except CryptoError as exc:
            raise AuditFailure(
                "forked", "the log is not an extension of the one this device verified"
            ) from exc

    def _incremental(
        self, circle_id: uuid.UUID, head: TreeHead, pin: dict[str, Any]
    ) -> tuple["_Grown", "_SignatureState"]:
        """Only the records since the pin: the consistency proof from the pinned head (else
        ``forked``), the new records chained to the last pinned one, and their leaves
        extending the pinned frontier to the signed root (else ``root_mismatch``)."""
        pinned = int(pin["size"])
        if head.size < pinned:
            raise AuditFailure(
                "rolled_back",
                f"the server's log has {head.size} records; this device verified {pinned}",
            )
        try:
            raw = b64decode(pin["frontier"])
            hashes = [raw[i : i + 32] for i in range(0, len(raw), 32)]
            grown = merkle.Frontier(pinned, hashes)
        except CryptoError as exc:
            raise AuditFailure("bad_pin", "this device's audit pin is damaged") from exc
        if not hmac.compare_digest(grown.root(), b64decode(pin["root"])):
            raise AuditFailure("bad_pin", "this device's audit pin is damaged")
        self._check_consistency(circle_id, pin, head)
        records = self.fetch_records(circle_id, head.size, pinned)
        last = pin.get("last")
        self.check_chain(records, None if last is None else b64decode(last))
        for record in records:
            grown.append_leaf_hash(record.leaf)
        if not hmac.compare_digest(grown.root(), head.root):
            raise AuditFailure(
                "root_mismatch",
                "the new records do not hash to the signed tree head: a record was changed, "
                "dropped or inserted",
            )
        state = _SignatureState(
            {
                k: (int(n), None if h is None else b64decode(h))
                for k, (n, h) in pin["cases"].items()
            },
            dict(pin["filed"]),
            dict(pin["issuance"]),
        )
        return _Grown(grown.hashes, records), state

    @staticmethod
    def check_chain(records: list[Record], prev: bytes | None) -> None:
        """Each record's ``seq`` and ``prev`` link; ``prev``: the hash of the record before
        the first one (None from record 0)."""
        for record in records:
            body = record.body
            if not isinstance(body, dict) or body.get("seq") != record.seq:
                raise AuditFailure(
                    "reordered", f"the record at position {record.seq} says it is another record"
                )
            expected = None if prev is None else b64encode(prev)
            if body.get("prev") != expected:
                raise AuditFailure(
                    "changed_record",
                    f"record {record.seq} does not chain to record {record.seq - 1}: "
                    "one of them was changed or removed",
                )
            prev = event_hash(record.raw)

    @staticmethod
    def _check_pinned(pin: dict[str, Any], records: list[Record]) -> None:
        """The pinned records, fetched again, are what this device verified: each leaf
        against a pin that kept them (pins before frontiers), else their root."""
        size = int(pin["size"])
        if "leaves" not in pin:
            tree = merkle.MerkleTree.from_leaf_hashes(r.leaf for r in records[:size])
            if not hmac.compare_digest(tree.root(), b64decode(pin["root"])):
                raise AuditFailure(
                    "changed_record",
                    f"a record among the first {size} changed since this device verified them",
                )
            return
        pinned = b64decode(pin["leaves"])
        for index in range(int(pin["size"])):
            if not hmac.compare_digest(pinned[32 * index : 32 * index + 32], records[index].leaf):
                raise AuditFailure(
                    "changed_record", f"record {index} changed since this device verified it"
                )

    def _all_key_records(self, circle_id: uuid.UUID) -> list[KeyRecord]:
        """Every key record of the circle, each signature checked once per ``Audit``: after
        the first verify only the records from the last one verified are fetched, and that
        one must come back byte for byte (else ``forked``), so a verify costs the records
        appended since, not the chain's history."""
        chain, last = self._key_records.get(circle_id, ([], ""))
        chain = list(chain)
        after = chain[-1].seq - 1 if chain else -1
        rows = self.client.request(
            "GET", f"/v1/circles/{circle_id}/records", params={"after": after}
        )
        if chain:
            if not rows or rows[0].get("seq") != chain[-1].seq:
                raise AuditFailure(
                    "rolled_back",
                    f"the server no longer shows key record {chain[-1].seq}, verified before",
                )
            if not hmac.compare_digest(str(rows[0].get("record")).encode(), last.encode()):
                raise AuditFailure(
                    "forked", f"key record {chain[-1].seq} differs from the one verified before"
                )
            rows = rows[1:]
        try:
            for row in rows:
                record = KeyRecord.parse(row["record"].encode())
                signer = _parse_identity(row["signer_identity"])
                verify_record(
                    chain[-1] if chain else None, record, b64decode(row["signature"]), signer
                )
                chain.append(record)
                last = row["record"]
        except CryptoError as exc:
            raise AuditFailure("bad_signature", f"key record: {exc}") from exc
        self._key_records[circle_id] = (chain, last)
        return chain

    @staticmethod
    def _check_extends(verified: KeyRecord, chain: list[KeyRecord]) -> None:
        """The chain fetched now must pass through the record the sync verified: records
        appended since (a confirm, removal or role change during the verify) are an honest
        append, checked record by record in ``_all_key_records`` and used from here on. Only
        a chain that cannot have ``verified`` in its history is a fork."""
        if not chain or chain[-1].seq < verified.seq:
            raise AuditFailure(
                "rolled_back",
                f"the server now shows {len(chain)} key records; this verify saw record "
                f"{verified.seq}",
            )
        at = next((r for r in chain if r.seq == verified.seq), None)
        if at is None or not hmac.compare_digest(at.hash(), verified.hash()):
            raise AuditFailure(
                "forked",
                f"key record {verified.seq} differs from the one this verify checked: the two "
                "histories cannot both be true",
            )

    def _identity(self, username: str) -> PublicIdentity:
        return self.client.user_keys(username).identity

    def _check_signatures(
        self, circle: VerifiedCircle, records: list[Record], state: "_SignatureState"
    ) -> int:
        chain = self._all_key_records(circle.circle_id)
        self._check_extends(circle.record, chain)
        by_hash = {b64encode(r.hash()): r for r in chain}
        admins = {(m.user, m.fp) for r in chain for m in r.members if m.role in ADMIN_ROLES}
        keys = self.moderation.state(circle)
        mod_hashes = {b64encode(r.hash()): (r, keys.rows[r.generation]) for r in keys.records}
        identities: dict[str, PublicIdentity] = {}

        def admin_identity(user: str, seq: int) -> PublicIdentity:
            if user not in identities:
                identities[user] = self._identity(user)
            identity = identities[user]
            if (user, identity.fingerprint()) not in admins:
                raise AuditFailure(
                    "bad_signature", f"record {seq} is signed by {user}, never an admin here"
                )
            return identity

        checked = 0
        cases, filed = state.cases, state.filed  # carried from the pin: only new records here
        for record in records:
            if record.body.get("kind") in ("report_filed", "takedown_filed"):
                details = record.body.get("details") or {}
                case_key = str(details.get("case_id"))
                if case_key in filed:
                    raise AuditFailure("changed_record", f"record {record.seq} files a case twice")
                filed[case_key] = str(details.get("case_hash"))
            kind, details = record.body.get("kind"), record.body.get("details") or {}
            if "record_hash" in details and kind != "moderation_key_rotated":
                key_record = by_hash.get(details["record_hash"])
                if key_record is None or key_record.seq != details.get("record_seq", 0):
                    raise AuditFailure(
                        "bad_signature",
                        f"record {record.seq} points at a key record that is not in the "
                        "signed chain",
                    )
                checked += 1
            elif kind == "moderation_key_rotated":
                found = mod_hashes.get(details.get("record_hash", ""))
                if found is None:
                    raise AuditFailure(
                        "bad_signature",
                        f"record {record.seq} names a moderation key that does not exist",
                    )
                mod_record, row = found
                try:
                    mod_record.verify_signature(
                        b64decode(row["signature"]),
                        admin_identity(mod_record.signer, record.seq),
                    )
                except CryptoError as exc:
                    raise AuditFailure(
                        "bad_signature", f"record {record.seq}: moderation key signature"
                    ) from exc
                checked += 1
            elif kind == "case_decided":
                try:
                    decision = Decision.parse(details["decision"].encode())
                    decision.verify_signature(
                        b64decode(details["signature"]),
                        admin_identity(decision.signer, record.seq),
                    )
                except (CryptoError, KeyError, AttributeError) as exc:
                    raise AuditFailure(
                        "bad_signature", f"record {record.seq}: the decision's signature"
                    ) from exc
                if (
                    decision.signer != record.body.get("actor")
                    or decision.action != details.get("action")
                    or decision.case_id.hex != details.get("case_id")
                    or decision.circle_id != circle.circle_id
                ):
                    raise AuditFailure(
                        "changed_record", f"record {record.seq} differs from its signed decision"
                    )
                entry_hex = None if decision.entry_id is None else decision.entry_id.hex
                if details.get("entry_id") != entry_hex:
                    raise AuditFailure(
                        "changed_record",
                        f"record {record.seq} names another entry than its decision",
                    )
                if filed.get(decision.case_id.hex) != b64encode(decision.case_hash):
                    raise AuditFailure(
                        "changed_record",
                        f"record {record.seq} decides a case that was not filed before it, "
                        "or not as it was filed",
                    )
                seen, last = cases.get(decision.case_id.hex, (0, None))
                if decision.seq != seen or (decision.prev or b"") != (last or b""):
                    raise AuditFailure(
                        "broken_chain",
                        f"record {record.seq}: decision {decision.seq} of case "
                        f"{decision.case_id} does not follow the case's previous decision",
                    )
                cases[decision.case_id.hex] = (seen + 1, decision.hash())
                checked += 1
            elif kind == "anon_issuance_key":
                checked += check_issuance_record(
                    circle.circle_id, record.seq, record.body, admin_identity, state.issuance
                )
            else:
                checked += check_entry_record(
                    circle.circle_id,
                    record.seq,
                    record.body,
                    lambda user: self._identity(user).ed25519_public,
                )
        return checked

    # -- showing (audit_view) ---------------------------------------------------------------

    def show(self, circle_id: uuid.UUID) -> list[dict[str, Any]]:
        """The records, verified first, with decision reasons for admins (``audit_view``)."""
        return audit_view.show(self, circle_id)

    def evaluations(self, circle_id: uuid.UUID) -> list[dict[str, Any]]:
        """Who asked for sealed-warning evaluations, when (admins; ``audit_view``)."""
        return audit_view.evaluations(self, circle_id)


__all__ = ["Audit", "AuditFailure", "AuditPins"]
