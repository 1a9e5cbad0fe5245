"""The index a check uses to find candidate names gives the answers of comparing every name."""

import json
import uuid
from pathlib import Path

from app.client.cache import CachedWarning, CircleCopy
from app.client.name_rules import load_name_rules
from app.client.namecheck import NameIndex
from app.crypto.matching import match_level, name_forms

CORPUS = json.loads(
    (Path(__file__).parents[2] / "docs" / "vectors" / "name-matches-v1.json").read_text()
)
RULES = load_name_rules()


def test_the_index_finds_every_name_a_full_comparison_finds() -> None:
    names = sorted({n for p in CORPUS["pairs"] for n in p["names"]} | {"J. N.", "Novák Jan Jr"})
    warnings = {}
    for i, name in enumerate(names):
        data = {"entry_id": str(i), "seq": i, "status": "live", "expires_at": "9999-01-01Z"}
        warnings[str(i)] = CachedWarning(data, [name_forms(name, RULES)])
    index = NameIndex(CircleCopy(uuid.uuid4(), warnings=warnings).warnings)
    queries = {p["query"] for p in CORPUS["pairs"]} | set(names)
    found = 0
    for query in sorted(queries):
        asked = name_forms(query, RULES)
        everything = {
            w.entry_id
            for w in warnings.values()
            if match_level(asked, w.forms[0], RULES) is not None
        }
        candidates = {c.entry_id for c, _ in index.candidates(asked).values()}
        assert everything <= candidates, query
        found += len(everything)
    assert found > len(queries)  # the comparison is not vacuous
