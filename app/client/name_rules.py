"""The one place the Python client reads the name-matching rules (docs/protocol.md §25.3).

The file is ``docs/vectors/name-rules-v1.json``, the same one the JavaScript client's
generated module mirrors; the package carries it as the bundled file
``name-rules-v1.json`` (``[tool.backchannel.bundled]`` in pyproject.toml).
"""

import json
from functools import cache
from pathlib import Path

from app.bundled import path
from app.crypto.matching import NameRules

__all__ = ["load_name_rules", "name_rules_file"]


def name_rules_file() -> Path:
    return path("name-rules-v1.json")


@cache
def load_name_rules() -> NameRules:
    """Parse and validate the rules once per process."""
    return NameRules.from_json(json.loads(name_rules_file().read_text(encoding="utf-8")))
