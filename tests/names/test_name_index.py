"""The index a check uses to find candidate names gives the answers of comparing every name,
and stays so while a sync carries it through every kind of change (docs/protocol.md §25.3)."""

import json
import random
import uuid
from pathlib import Path
from typing import Any

from app.client.cache import CachedWarning, CircleCopy
from app.client.entries import Entries
from app.client.name_rules import load_name_rules
from app.client.namecheck import NameIndex
from app.crypto.matching import LEVELS, match_level, name_forms
from tests.moderation.conftest import Desk

CORPUS = json.loads(
    (Path(__file__).parents[2] / "docs" / "vectors" / "name-matches-v1.json").read_text()
)
RULES = load_name_rules()


def held(entry_id: str, *names: str, status: str = "live") -> CachedWarning:
    data = {"entry_id": entry_id, "seq": 1, "status": status, "expires_at": "9999-01-01Z"}
    return CachedWarning(data, [name_forms(n, RULES) for n in names])


def full_comparison(warnings: list[CachedWarning], query: str) -> set[str]:
    asked = name_forms(query, RULES)
    return {
        w.entry_id
        for w in warnings
        if w.live and any(match_level(asked, f, RULES) is not None for f in w.forms)
    }


def matched(index: NameIndex, query: str) -> set[str]:
    asked = name_forms(query, RULES)
    return {
        cached.entry_id
        for cached, names in index.candidates(asked).values()
        if any(match_level(asked, cached.forms[i], RULES) is not None for i in names)
    }


def test_the_index_finds_every_name_a_full_comparison_finds() -> None:
    names = sorted({n for p in CORPUS["pairs"] for n in p["names"]} | {"J. N.", "Novák Jan Jr"})
    warnings = [held(str(i), name) for i, name in enumerate(names)]
    index = NameIndex(warnings)
    queries = {p["query"] for p in CORPUS["pairs"]} | set(names)
    found = 0
    for query in sorted(queries):
        everything = full_comparison(warnings, query)
        assert matched(index, query) == everything, query
        found += len(everything)
    assert found > len(queries)  # the comparison is not vacuous


def test_a_common_word_does_not_make_every_name_a_candidate() -> None:
    warnings = [held(str(i), f"Soak Person {i:05d}") for i in range(2000)]
    index = NameIndex(warnings)
    asked = name_forms("Soak Person 00042", RULES)
    candidates = set(index.candidates(asked))
    assert "42" in candidates and len(candidates) < 10  # and a few sound-alikes ("00422")
    assert matched(index, "Soak") == {w.entry_id for w in warnings}  # a partial: all of them


def test_an_index_carried_through_changes_answers_as_one_built_afresh() -> None:
    """Random names over a small vocabulary (initials, shared words, sound-alikes), changed
    at random: posted, replaced by a tombstone (retracted, hidden, removed), restored."""
    rng = random.Random(14)
    vocabulary = [
        "jan",
        "J.",
        "Novák",
        "Nowak",
        "Müller",
        "Mueller",
        "anna",
        "A.",
        "soak",
        "p",
        "x",
    ]
    vocabulary += ["Katherine", "Catherine", "Новак", "Lee", "Li", "de", "la", "Cruz"]

    def name() -> str:
        return " ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 4)))

    current: dict[str, CachedWarning] = {}
    index = NameIndex()
    for step in range(600):
        entry_id = str(rng.randrange(120))
        old = current.get(entry_id)
        if old is not None and old.live and rng.random() < 0.4:
            new = held(entry_id, status=rng.choice(["retracted", "hidden", "removed", "expired"]))
        else:
            new = held(entry_id, *[name() for _ in range(rng.randint(1, 3))])
        index.update(old, new)
        current[entry_id] = new
        if step % 20 == 0:
            for query in [name() for _ in range(15)]:
                assert matched(index, query) == full_comparison(list(current.values()), query)
    assert index.live_count("2026-01-01Z") == sum(w.live for w in current.values())


def answers(entries: Entries, cid: uuid.UUID, query: str) -> list[tuple[str, str, str]]:
    return sorted(
        (m.level, m.warning["entry_id"], m.matched_name) for m in entries.check(cid, query).matches
    )


def compared_with_every_name(copy: CircleCopy, query: str) -> list[tuple[str, str, str]]:
    asked = name_forms(query, RULES)
    out = []
    for w in copy.warnings.values():
        if not w.live:
            continue
        written = [w.data["subject"], *w.data["aliases"]]
        levels = [(match_level(asked, f, RULES), i) for i, f in enumerate(w.forms)]
        best = min(((LEVELS.index(lv), i) for lv, i in levels if lv is not None), default=None)
        if best is not None:
            out.append((LEVELS[best[0]], w.entry_id, written[best[1]]))
    return sorted(out)


def test_a_synced_index_stays_right_through_retractions_takedowns_and_rotation(
    desk: Desk,
) -> None:
    """A reader's index is built once and then only updated by each sync; after every kind
    of change its answers are those of comparing every name the copy holds."""
    world = desk.world
    gina = desk.add_member("gina")
    reader = Entries(gina.circles)
    cid = desk.cid
    queries = ["Jan Novák", "Novák", "J. Novak", "Jan Nowak Senior", "Anna Lee", "Nobody"]

    def post(subject: str, **fields: Any) -> uuid.UUID:
        return desk.post_entry(world.bob, subject=subject, text="t", **fields)

    first = post("Jan Novák", aliases=["Anna Lee"])
    post("Novák")
    reader.check(cid, "Jan Novák")
    index = reader.sync(cid).index
    assert index is not None

    def same_answers() -> None:
        copy = reader.sync(cid)
        assert copy.index is index  # carried, not rebuilt
        for query in queries:
            assert answers(reader, cid, query) == compared_with_every_name(copy, query), query

    second = post("Jan Nowak")
    post("J. Novák Senior")
    same_answers()
    Entries(world.bob.circles).retract(cid, str(first))
    same_answers()
    case = desk.report(world.carol, second)
    desk.decide(case, "hide")
    same_answers()
    assert "Jan Nowak" not in {m[2] for m in answers(reader, cid, "Jan Nowak")}
    desk.decide(case, "restore")
    same_answers()
    desk.decide(desk.report(gina, second), "remove")
    same_answers()
    world.alice.circles.remove(cid, "bob")  # a new epoch key
    Entries(world.alice.circles).post(cid, subject="Anna Lee", text="t", categories=["other"])
    same_answers()
    assert answers(reader, cid, "Anna Lee")[0][:1] == ("exact",)
