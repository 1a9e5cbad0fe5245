"""Checking a name against the warnings this device holds (docs/protocol.md §25.3).

Nothing about the name leaves the device: the check syncs the circle's changes (which
carry no name) and matches locally, at three levels (exact, partial, possible). The
result says what was compared, so no client words an empty answer as more than it is:
"none of the N warnings this device holds matches these forms".
"""

import uuid
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations
from typing import TYPE_CHECKING, Any

from app.client.cache import CachedWarning, CircleCopy
from app.client.errors import ProtocolError
from app.client.name_rules import load_name_rules
from app.crypto import CryptoError
from app.crypto.matching import LEVELS, NameForms, match_level, name_forms

if TYPE_CHECKING:
    from app.client.entries import Entries

__all__ = ["Match", "NameCheck", "check_copy", "check_name"]


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
    """Where each word, exact form and sound key occurs among a copy's live names, kept up
    to date as a sync applies changes (``update``), so a check compares the query only
    with names that can match it (§25.3) and costs what those names cost, not the history.

    Exact matches share an exact form. A partial match pairs every word of the shorter
    name with a word of the longer (the same word, or an initial and a word it begins),
    sharing a whole word: so a name at least as long as the query holds the query's rarest
    whole word or its initial, and a shorter name's whole words are all query words (one
    lookup per subset of the query's words; with initials in the query, any shared word).
    Possible matches are the same tests on sound keys. The candidates then go through
    ``match_level`` itself, so the answers are those of comparing every name."""

    def __init__(self, warnings: Iterable[CachedWarning] = ()) -> None:
        self._at: dict[str, dict[tuple[str, int], CachedWarning]] = {}
        at = self._at
        expiries = []
        for cached in warnings:
            if not cached.live:
                continue
            for i, forms in enumerate(cached.forms):
                place = (cached.entry_id, i)
                for key in _keys(forms):
                    places = at.get(key)
                    if places is None:
                        at[key] = {place: cached}
                    else:
                        places[place] = cached
            expiries.append(cached.expires_at)
        expiries.sort()
        self._expiries = expiries  # expires_at of every live warning, sorted

    def update(self, old: CachedWarning | None, new: CachedWarning | None) -> None:
        """A sync replaced ``old`` (None: new) with ``new`` (None: gone)."""
        if old is not None:
            for i, forms in enumerate(old.forms if old.live else ()):
                for key in _keys(forms):
                    places = self._at.get(key)
                    if places is not None:
                        places.pop((old.entry_id, i), None)
                        if not places:
                            del self._at[key]
            if old.live:
                del self._expiries[bisect_left(self._expiries, old.expires_at)]
        if new is not None and new.live:
            for i, forms in enumerate(new.forms):
                for key in _keys(forms):
                    self._at.setdefault(key, {})[(new.entry_id, i)] = new
            insort(self._expiries, new.expires_at)

    def live_count(self, now: str) -> int:
        """Live warnings not expired at ``now`` (ISO 8601 UTC, compared as text)."""
        return len(self._expiries) - bisect_right(self._expiries, now)

    def candidates(self, query: NameForms) -> dict[str, tuple[CachedWarning, list[int]]]:
        found: dict[str, tuple[CachedWarning, list[int]]] = {}

        def add(places: Iterable[tuple[tuple[str, int], CachedWarning]]) -> None:
            for (entry_id, i), cached in places:
                names = found.setdefault(entry_id, (cached, []))[1]
                if i not in names:
                    names.append(i)

        exact = ["w:" + query.sorted_words, "c:" + query.joined]
        if query.sounds:
            exact += ["sw:" + query.sorted_sounds, "sc:" + query.joined_sound]
        for key in exact:
            add(self._at.get(key, {}).items())
        for prefix, sequence in (("", _words), ("s", _sounds)):
            add(self._part_candidates(prefix, sequence, sequence(query)))
        return found

    def _part_candidates(
        self, prefix: str, sequence: Callable[[NameForms], tuple[str, ...]], asked: tuple[str, ...]
    ) -> Iterator[tuple[tuple[str, int], CachedWarning]]:
        whole = sorted({w for w in asked if len(w) > 1})
        if not whole:
            return  # a partial match shares a whole word
        at, size = self._at, len(asked)
        empty: dict[tuple[str, int], CachedWarning] = {}

        def holding(word: str) -> list[dict[tuple[str, int], CachedWarning]]:
            return [at.get(prefix + "l:" + word, empty), at.get(prefix + "i:" + word[0], empty)]

        rarest = min(whole, key=lambda w: sum(map(len, holding(w))))
        for places in holding(rarest):
            for place, cached in places.items():
                if len(sequence(cached.forms[place[1]])) >= size:
                    yield place, cached
        if size == 1:
            return  # no whole-word name is shorter
        if any(len(w) == 1 for w in asked) or len(whole) > SUBSET_WORDS:
            groups = [at.get(prefix + "l:" + w, empty) for w in whole]
        else:
            groups = [
                at.get(prefix + "g:" + " ".join(subset), empty)
                for n in range(1, min(len(whole), size - 1) + 1)
                for subset in combinations(whole, n)
            ]
        for places in groups:
            for place, cached in places.items():
                if len(sequence(cached.forms[place[1]])) < size:
                    yield place, cached


SUBSET_WORDS = 8  # query words up to which shorter names are found by their word set


def _words(forms: NameForms) -> tuple[str, ...]:
    return forms.words


def _sounds(forms: NameForms) -> tuple[str, ...]:
    return forms.sounds


def _keys(forms: NameForms) -> list[str]:
    """Where a name is filed (a key may come twice: filing is idempotent)."""
    keys = ["w:" + forms.sorted_words, "c:" + forms.joined]
    if forms.sounds:
        keys += ["sw:" + forms.sorted_sounds, "sc:" + forms.joined_sound]
    for prefix, ordered in (("", forms.sorted_words), ("s", forms.sorted_sounds)):
        if not ordered:
            continue
        whole: list[str] = []
        for w in ordered.split(" "):
            if len(w) > 1:
                if not whole or whole[-1] != w:
                    whole.append(w)
                    keys.append(prefix + "l:" + w)
            else:
                keys.append(prefix + "i:" + w)
        if whole:
            keys.append(prefix + "g:" + " ".join(whole))
    return keys


def index_of(copy: CircleCopy) -> NameIndex:
    """The copy's index: built by the first check of a copy loaded or made from scratch,
    then carried from copy to copy by each sync (app/client/sync.py)."""
    if copy.index is None:
        copy.index = NameIndex(copy.warnings.values())
    index: NameIndex = copy.index
    return index


def check_name(entries: "Entries", circle_id: uuid.UUID, name: str) -> NameCheck:
    """Sync the circle's changes, then match ``name`` against the copy."""
    query = _query(name)
    return check_copy(entries.sync(circle_id), name, query)


def _query(name: str) -> NameForms:
    try:
        return name_forms(name, load_name_rules())
    except CryptoError:
        raise ProtocolError("bad_name", "a name needs letters or digits") from None


def check_copy(copy: CircleCopy, name: str, query: NameForms | None = None) -> NameCheck:
    """Match ``name`` against a copy already synced (a page of takedown requests checks
    each request's name against one sync)."""
    rules = load_name_rules()
    query = _query(name) if query is None else query
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    index = index_of(copy)
    # The server wipes expired warnings in periodic passes; until then, hide them here.
    # (Times are ISO 8601 UTC as the server writes them, so they compare as text.)
    searched = index.live_count(now)
    found: list[tuple[int, int, Match]] = []
    for cached, positions in index.candidates(query).values():
        if cached.expires_at <= now:
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
        circle_id=copy.circle_id,
        searched=searched,
        change_seq=copy.change_seq,
        matches=[m for _, _, m in found],
    )
