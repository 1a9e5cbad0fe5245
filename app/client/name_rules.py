"""The one place the Python client reads the name-matching rules (docs/protocol.md §25.3).

The file is ``docs/vectors/name-rules-v1.json``, the same one the JavaScript client's
generated module mirrors; an installed client must carry it (package data).
"""

import json
from functools import cache
from pathlib import Path

from app.crypto.matching import NameRules

__all__ = ["NAME_RULES_FILE", "load_name_rules"]

NAME_RULES_FILE = Path(__file__).resolve().parents[2] / "docs" / "vectors" / "name-rules-v1.json"


@cache
def load_name_rules() -> NameRules:
    """Parse and validate the rules once per process."""
    return NameRules.from_json(json.loads(NAME_RULES_FILE.read_text(encoding="utf-8")))
