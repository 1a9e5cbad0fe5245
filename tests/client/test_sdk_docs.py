"""docs/sdk.md is the SDK's contract: its public names are exactly ``app.client.__all__``, and
its example runs as written against a live server (both engines)."""

import re
from pathlib import Path

import pytest

import app.client

SDK_DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"


def _section(title: str) -> str:
    text = SDK_DOC.read_text(encoding="utf-8")
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_public_names_are_exactly_the_documented_ones() -> None:
    rows = [line for line in _section("Public names").splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`(\w+)`", row.split("|")[1])}
    assert documented == set(app.client.__all__)
    assert all(hasattr(app.client, name) for name in app.client.__all__)


def test_the_example_registers_joins_posts_and_reads(
    live_server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    section = _section("Example: register, join, post and read")
    [code] = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    [stated] = re.findall(r"It prints `([^`]+)`", section)
    monkeypatch.setenv("BACKCHANNEL_SERVER", live_server)
    exec(compile(code, str(SDK_DOC), "exec"), {"__name__": "sdk_example"})
    assert capsys.readouterr().out == stated + "\n"
