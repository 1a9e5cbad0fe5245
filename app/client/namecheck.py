"""Checking a name against the warnings this device holds (docs/protocol.md §25.3).

Nothing about the name leaves the device: the check syncs the circle's changes (which
carry no name) and matches locally, at three levels (exact, partial, possible). The
result says what was compared, so no client words an empty answer as more than it is:
"none of the N warnings this device holds matches these forms".
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from app.client.errors import ProtocolError
from app.client.name_rules import load_name_rules
from app.crypto import CryptoError
from app.crypto.matching import LEVELS, match_level, name_forms

if TYPE_CHECKING:
    from app.client.entries import Entries

__all__ = ["Match", "NameCheck", "check_name"]


@dataclass(frozen=True)
class Match:
    level: str  # exact | partial | possible
    matched_name: str  # the subject or alias it matched (as the author wrote it)
    warning: dict[str, Any]  # ReadEntry.as_json() with seq and change_seq


@dataclass(frozen=True)
class NameCheck:
    query: str
    words: tuple[str, ...]  # the normalised words compared (exact and partial)
    sounds: tuple[str, ...]  # their sound keys (possible)
    circle_id: uuid.UUID
    searched: int  # live, unexpired warnings this device holds, all compared
    change_seq: int  # the copy is current to this change number
    matches: list[Match]  # exact, then partial, then possible; newest first within each

    def counts(self) -> dict[str, int]:
        return {level: sum(m.level == level for m in self.matches) for level in LEVELS}

    def as_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "checked": {
                "normalised": " ".join(self.words),
                "words": list(self.words),
                "sounds": list(self.sounds),
                "levels": list(LEVELS),
            },
            "searched": {
                "circle_id": str(self.circle_id),
                "warnings": self.searched,
                "change_seq": self.change_seq,
                "scope": "device",
            },
            "counts": self.counts(),
            "matches": [
                {"level": m.level, "matched_name": m.matched_name, "warning": m.warning}
                for m in self.matches
            ],
        }


def _unexpired(warning: dict[str, Any], now: datetime) -> bool:
    """The server wipes expired warnings in periodic passes; until then, hide them here."""
    return datetime.fromisoformat(warning["expires_at"]) > now


def check_name(entries: "Entries", circle_id: uuid.UUID, name: str) -> NameCheck:
    rules = load_name_rules()
    try:
        query = name_forms(name, rules)
    except CryptoError:
        raise ProtocolError("bad_name", "a name needs letters or digits") from None
    copy = entries.sync(circle_id)
    now = datetime.now(UTC)
    found: list[tuple[int, int, Match]] = []
    searched = 0
    for cached in copy.warnings.values():
        if not cached.live or not _unexpired(cached.data, now):
            continue
        searched += 1
        best: tuple[int, str] | None = None
        names = [cached.data["subject"], *cached.data["aliases"]]
        for written, forms in zip(names, cached.forms, strict=True):
            level = match_level(query, forms, rules)
            if level is not None and (best is None or LEVELS.index(level) < best[0]):
                best = (LEVELS.index(level), written)
        if best is not None:
            match = Match(LEVELS[best[0]], best[1], cached.data)
            found.append((best[0], -int(cached.data["seq"]), match))
    found.sort(key=lambda item: item[:2])
    return NameCheck(
        query=name,
        words=query.words,
        sounds=query.sounds,
        circle_id=circle_id,
        searched=searched,
        change_seq=copy.change_seq,
        matches=[m for _, _, m in found],
    )
