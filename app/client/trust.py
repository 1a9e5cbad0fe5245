"""What this device has verified about each circle: the newest record and the inviter.

Kept in ``BACKCHANNEL_HOME/trust.json`` (0600). A server that later shows an
older record (rollback) or a different record at a seen position (fork) is
caught against this file.
"""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app.client.profile import home, write_private

TRUST_FILE = "trust.json"


@dataclass
class CirclePin:
    seq: int = -1
    record: str = ""  # canonical record text of the newest verified record
    epoch: int = -1
    inviter_fingerprint: str | None = None  # until the first verified sync after joining
    invite_record: str | None = None  # b64 hash of the record the inviter vouched for
    joined: dict[str, int] = field(default_factory=dict)  # user -> seq that last added them
    # Seq of the first record of the current run of records with the newest admin set
    # (owners and admins with their fingerprints); -1: not known yet.
    admins_since: int = -1
    name: str | None = None  # the circle's name at the last verified sync
    # Sealed warnings: the settings record and moderation key record this device verified at
    # key record ``sealed_checked_at`` (texts), so a cold CLI seal need not fetch and verify
    # them again while the key record is the same (the server refuses a filing made under a
    # changed k or moderation key, and the SDK then checks afresh).
    sealed_checked_at: int = -1
    sealed_settings: str | None = None
    sealed_moderation: str | None = None


@dataclass
class TrustStore:
    circles: dict[str, CirclePin] = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def load(cls, directory: Path | None = None) -> "TrustStore":
        path = (directory or home()) / TRUST_FILE
        try:
            raw = json.loads(path.read_text())
            circles = {k: CirclePin(**v) for k, v in raw.get("circles", {}).items()}
        except FileNotFoundError:
            circles = {}
        return cls(circles=circles, path=path)

    @classmethod
    def in_memory(cls) -> "TrustStore":
        return cls()

    def pin(self, circle_id: str) -> CirclePin:
        return self.circles.setdefault(circle_id, CirclePin())

    def save(self) -> None:
        if self.path is None:
            return
        data = {"circles": {k: asdict(v) for k, v in self.circles.items()}}
        write_private(self.path, json.dumps(data, indent=1).encode())
