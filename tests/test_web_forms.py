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
    sign_in = (UI / "auth.js").read_text()  # log in and create an account
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
    assert re.search(r'<nav id="account" aria-label="Account"[^>]*></nav>', page)
    assert page.index('<nav id="account"') < page.index('<main id="main"')
    shell = (UI / "shell.js").read_text()  # the page frame every view shares
    bar = shell[shell.index("function renderAccountBar()") :]
    bar = bar[: bar.index("\n}\n")]
    assert "nav.signOut()" in bar and 't("bar.log_out")' in bar
    for language in ("en", "es", "ar"):  # the button has its words in every catalogue
        catalogue = (UI / "i18n" / f"{language}.js").read_text()
        assert re.search(r'"bar\.log_out": "[^"]+"', catalogue), language
    assert '"bar.log_out": "Log out"' in (UI / "i18n" / "en.js").read_text()
