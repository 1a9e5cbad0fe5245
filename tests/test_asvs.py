"""OWASP ASVS 5.0 Level 2, chapters V6, V7, V8 and V16: the table in docs/threat-model.md.

Every requirement a Level 2 application must meet (Level 1 and 2) has a row. A row that
applies names tests that exist, and at least one of them carries ``pytest.mark.asvs`` with
its id; every id a test claims has a row. Other rows give their reason (not applicable, a
known gap, or the operator's deployment). The documentation rows (6.1.1, 7.1.1) are checked
against the settings here.
"""

import ast
import re
from pathlib import Path

import pytest

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
THREAT_MODEL = ROOT / "docs" / "threat-model.md"
API = ROOT / "docs" / "api.md"


def _ids(prefix: str, counts: dict[int, int]) -> set[str]:
    return {
        f"{prefix}.{section}.{n}" for section, last in counts.items() for n in range(1, last + 1)
    }


# ASVS 5.0.0, every requirement of Level 1 or 2 in the four chapters (Level 3 ones are left out).
LEVEL_2 = (
    _ids("6", {1: 3, 2: 12, 3: 4, 4: 4, 5: 5, 6: 3, 8: 4})
    | _ids("7", {1: 3, 2: 4, 3: 2, 4: 5, 5: 2, 6: 2})
    | _ids("8", {1: 2, 2: 3, 3: 1, 4: 1})
    | _ids("16", {1: 1, 2: 5, 3: 4, 4: 3, 5: 3})
)
STATUSES = {"applies", "n/a", "gap", "operator"}
ROW = re.compile(r"^\| (\d+\.\d+\.\d+) \| ([12]) \| (.+?) \| (\S+) \| (.+) \|$")
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _rows() -> dict[str, tuple[str, str]]:
    text = THREAT_MODEL.read_text()
    section = text[text.index("## OWASP ASVS 5.0") :]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        match = ROW.match(line)
        if match:
            assert match[1] not in rows, f"{match[1]} twice"
            rows[match[1]] = (match[4], match[5])
    return rows


def _marked_tests() -> dict[tuple[str, str], set[str]]:
    """(file, test) -> the ASVS ids its ``pytest.mark.asvs`` decorator names."""
    found: dict[tuple[str, str], set[str]] = {}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            found[(relative, node.name)] = set()
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and ast.unparse(decorator.func) == "pytest.mark.asvs"
                ):
                    found[(relative, node.name)] |= {
                        arg.value for arg in decorator.args if isinstance(arg, ast.Constant)
                    }
    return found


def test_every_level_2_requirement_has_a_row() -> None:
    rows = _rows()
    assert set(rows) == LEVEL_2
    assert {status for status, _ in rows.values()} <= STATUSES


def test_each_applicable_requirement_names_a_test_that_claims_it() -> None:
    tests = _marked_tests()
    problems = []
    for requirement, (status, proof) in _rows().items():
        references = REFERENCE.findall(proof)
        missing = [ref for ref in references if ref not in tests]
        if missing:
            problems.append(f"{requirement}: no such test {missing}")
        if status == "applies" and not any(requirement in tests.get(r, set()) for r in references):
            problems.append(f"{requirement}: none of {references} is marked asvs({requirement!r})")
        if status != "applies" and len(proof) < 20:
            problems.append(f"{requirement}: {status} needs a reason")
    assert not problems, "\n".join(problems)


def test_every_claimed_requirement_is_in_the_table() -> None:
    rows = _rows()
    claimed = {i for ids in _marked_tests().values() for i in ids}
    assert claimed <= set(rows), claimed - set(rows)
    assert {i for i in claimed if rows[i][0] != "applies"} <= {
        i for i, (status, _) in rows.items() if status == "gap"
    }


@pytest.mark.asvs("6.1.1")
def test_the_documented_throttle_is_the_configured_one() -> None:
    """ASVS 6.1.1: docs/api.md states the throttle windows and limits the server uses."""
    text = API.read_text()
    defaults = Settings()
    rows = {
        "pair": (defaults.login_pair_limit, defaults.login_pair_window_seconds),
        "account": (defaults.login_account_limit, defaults.login_account_window_seconds),
        "address": (defaults.login_address_limit, defaults.login_address_window_seconds),
    }
    for window, (limit, seconds) in rows.items():
        row = re.search(rf"^\| {window} \|[^\n]*\*\*(\d+) per [^\n]*\((\d+)\) \|$", text, re.M)
        assert row, window
        assert (int(row[1]), int(row[2])) == (limit, seconds), window
    assert "lifts on its own" in text  # no malicious lockout: windows slide


@pytest.mark.asvs("7.1.1")
def test_the_documented_session_timeouts_are_the_configured_ones() -> None:
    """ASVS 7.1.1: docs/api.md states the idle timeout and absolute lifetime the server uses,
    and the threat model justifies them against NIST SP 800-63B."""
    text = API.read_text()
    defaults = Settings()
    idle = re.search(r"BACKCHANNEL_SESSION_IDLE_SECONDS` \(default \*\*(\d+)\*\*", text)
    lifetime = re.search(r"BACKCHANNEL_SESSION_LIFETIME_SECONDS` \(default \*\*(\d+)\*\*", text)
    assert idle and lifetime
    assert int(idle[1]) == defaults.session_idle_seconds
    assert int(lifetime[1]) == defaults.session_lifetime_seconds
    threat_model = THREAT_MODEL.read_text()
    assert "NIST SP 800-63B" in threat_model and "re-authentication" in threat_model
