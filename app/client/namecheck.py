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

from app.client.cache import CachedWarning, CircleCopy
from app.client.errors import ProtocolError
from app.client.name_rules import load_name_rules
from app.crypto import CryptoError
from app.crypto.matching import LEVELS, NameForms, match_level, name_forms

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


class NameIndex:
    """Where each word, exact form and sound key occurs among a copy's names, so a check
    compares the query only with names that can match it at some level (§25.3: an exact
    match shares an exact form, a partial one a word, a possible one a sound key or a
    sound form). The candidates then go through ``match_level`` itself, so the answers are
    those of comparing every name."""

    def __init__(self, warnings: dict[str, CachedWarning]) -> None:
        self._at: dict[str, list[tuple[CachedWarning, int]]] = {}
        at = self._at
        for cached in warnings.values():
            for i, forms in enumerate(cached.forms):
                place = (cached, i)
                for key in self._keys(forms):
                    places = at.get(key)
                    if places is None:
                        at[key] = [place]
                    elif places[-1] is not place:  # a word twice in one name
                        places.append(place)

    @staticmethod
    def _keys(forms: NameForms) -> list[str]:
        keys = ["w:" + forms.sorted_words, "c:" + forms.joined]
        keys += ["l:" + w for w in forms.words if len(w) > 1]
        if forms.sounds:
            keys += ["sw:" + forms.sorted_sounds, "sc:" + forms.joined_sound]
            keys += ["ls:" + s for s in forms.sounds if len(s) > 1]
        return keys

    def candidates(self, query: NameForms) -> dict[int, tuple[CachedWarning, list[int]]]:
        found: dict[int, tuple[CachedWarning, list[int]]] = {}
        for key in self._keys(query):
            for cached, i in self._at.get(key, ()):
                names = found.setdefault(id(cached), (cached, []))[1]
                if i not in names:
                    names.append(i)
        return found


def index_of(copy: CircleCopy) -> NameIndex:
    """The copy's index, built by the first check after the copy changed."""
    if copy.index is None:
        copy.index = NameIndex(copy.warnings)
    index: NameIndex = copy.index
    return index


def check_name(entries: "Entries", circle_id: uuid.UUID, name: str) -> NameCheck:
    rules = load_name_rules()
    try:
        query = name_forms(name, rules)
    except CryptoError:
        raise ProtocolError("bad_name", "a name needs letters or digits") from None
    copy = entries.sync(circle_id)
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    # The server wipes expired warnings in periodic passes; until then, hide them here.
    # (Times are ISO 8601 UTC as the server writes them, so they compare as text.)
    searched = sum(1 for w in copy.warnings.values() if w.live and w.expires_at > now)
    found: list[tuple[int, int, Match]] = []
    for cached, positions in index_of(copy).candidates(query).values():
        if not cached.live or cached.expires_at <= now:
            continue
        best: tuple[int, int] | None = None
        for i in sorted(positions):
            level = match_level(query, cached.forms[i], rules)
            if level is not None and (best is None or LEVELS.index(level) < best[0]):
                best = (LEVELS.index(level), i)
        if best is not None:
            data = cached.data
            written = [data["subject"], *data["aliases"]][best[1]]
            found.append((best[0], -cached.seq, Match(LEVELS[best[0]], written, data)))
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
