"""The web client's sign-in forms and account bar, read from the sources the app serves."""

import re

import pytest
from starlette.testclient import TestClient

from app.web import SOURCE

UI = SOURCE / "ui"


def _inputs(source: str) -> list[str]:
    """The attribute objects of every ``h("input", {...})`` call."""
    return re.findall(r'h\(\s*"input",\s*\{(.*?)\}\s*\)', source, re.DOTALL)


def _passphrase_inputs() -> list[str]:
    found = []
    for path in sorted(UI.glob("*.js")):
        found += [attrs for attrs in _inputs(path.read_text()) if "password" in attrs.lower()]
    return found


@pytest.mark.asvs("6.2.6")
def test_passphrase_fields_are_masked() -> None:
    """ASVS 6.2.6: the passphrase and its repetition are type=password fields."""
    sign_in = (UI / "app.js").read_text()
    named = [a for a in _inputs(sign_in) if re.search(r'name: "(passphrase|repeat)"', a)]
    assert len(named) == 2
    assert all('type: "password"' in attrs for attrs in named)


@pytest.mark.asvs("6.2.7")
def test_paste_and_password_managers_are_allowed() -> None:
    """ASVS 6.2.7: no script blocks paste, and passphrase fields name themselves to password
    managers (current-password / new-password), never autocomplete=off."""
    for path in UI.glob("*.js"):
        source = path.read_text()
        assert not re.search(r"onpaste|\"paste\"|'paste'|ondrop|oncopy", source), path.name
    fields = _passphrase_inputs()
    assert fields
    for attrs in fields:
        assert re.search(r"(current|new)-password", attrs), attrs
        assert '"off"' not in attrs


@pytest.mark.asvs("7.4.4")
def test_logout_is_in_the_header_of_every_signed_in_view(http: TestClient) -> None:
    """ASVS 7.4.4: the one page keeps a header account bar; whenever someone is signed in it
    shows "Log out", whatever view the main area shows."""
    page = http.get("/").text
    assert '<nav id="account" aria-label="Account"></nav>' in page
    assert page.index('<nav id="account"') < page.index('<main id="main"')
    app_js = (UI / "app.js").read_text()
    bar = app_js[app_js.index("function renderAccountBar()") :]
    bar = bar[: bar.index("\n}\n")]
    assert "signOut()" in bar and '"Log out"' in bar
