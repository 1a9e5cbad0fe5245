"""Hostile user text through the real server and back through every CLI view (issue 12).

Each string of tests/hostile-text.json is posted as a warning's subject, alias, text,
contact and affiliation; the strings, in groups, are corroborations, report notes,
takedown requests (name, contact, text), decision reasons and takedown responses. Then
``read``, ``show``, ``check``, ``moderation list``, ``takedown status`` and ``audit show``
run, plain and with ``--json``: nothing crashes, the terminal receives no control
character, escape sequence or bidi control other than the FSI…PDI pairs isolating each
string, each string is shown as docs/api.md says ("How user text is shown"), and the JSON
carries the exact original.
"""

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from app.client.circles import Circles
from app.client.cli import output
from app.client.cli.output import FSI, PDI
from app.client.entries import Entries
from app.client.moderation import Moderation
from app.client.profile import Profile
from app.client.sdk import Client
from app.client.trust import TrustStore
from app.crypto.names import normalise_name
from tests.client.test_cli_circles import Cli

CORPUS: list[dict[str, str]] = json.loads(
    (Path(__file__).parents[1] / "hostile-text.json").read_text(encoding="utf-8")
)["strings"]
TEXTS = [item["text"] for item in CORPUS]
ANCHOR = "Jan Novák"  # an alias every warning has, so one check finds them all
# What a terminal must never receive: C0 (but the line feed), DEL, C1, bidi controls
# (FSI and PDI are checked apart: only in pairs, around user strings).
FORBIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066\u2067]")


def _name(text: str) -> str:
    """``text`` as a name: names need a letter or digit, so some strings get one first."""
    return text if normalise_name(text) else f"X {text}"


def test_the_corpus_is_big_and_varied() -> None:
    kinds = {item["kind"] for item in CORPUS}
    assert len(CORPUS) >= 200
    assert {"markup", "ansi", "c0", "c1", "bidi", "zero-width", "combining", "huge"} <= kinds
    assert {"emoji", "rtl", "lines", "nul"} <= kinds
    for item in CORPUS:
        assert output.visible(item["text"]) == item["shown"]
        assert output.visible(item["text"], multiline=True) == item["shown_multiline"]


def _groups(budget: int = 1200) -> list[list[str]]:
    """The corpus in groups small enough for one takedown request or corroboration."""
    groups: list[list[str]] = [[]]
    for text in TEXTS:
        if len("\n".join([*groups[-1], text]).encode()) > budget:
            groups.append([])
        groups[-1].append(text)
    return groups


def _circles(root: Path, who: str, server: str, monkeypatch: pytest.MonkeyPatch) -> Circles:
    monkeypatch.setenv("BACKCHANNEL_HOME", str(root / who))
    profile = Profile.load()
    return Circles(
        Client(server, token=profile.token),
        username=profile.username,
        identity=profile.identity,
        trust=TrustStore.load(),
    )


def _clean(result: Result) -> str:
    """The output of a run that must have worked, checked for what a terminal must not get."""
    assert result.exit_code == 0, result.output[-2000:]
    text = result.stdout
    bad = FORBIDDEN.search(text)
    assert bad is None, f"{bad.group()!r} reached the terminal near {text[bad.start() - 40 :]!r}"
    for line in text.split("\n"):
        depth = 0
        for ch in line:
            depth += {FSI: 1, PDI: -1}.get(ch, 0)
            assert depth in (0, 1), line  # never nested, never a PDI without its FSI
        assert depth == 0, line
    return text


def _isolated(text: str, *, multiline: bool = False) -> list[str]:
    lines = output.visible(text, multiline=multiline).split("\n")
    return [FSI + line + PDI for line in lines]


@pytest.fixture
def wide() -> Iterator[None]:
    """A terminal wide enough that no string wraps, so each is found whole."""
    before = output.out.width
    output.out.width = 5000
    yield
    output.out.width = before


@pytest.fixture
def world(live_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    c = Cli(live_server, tmp_path)
    fps = {who: c.json(who, "register", who)["fingerprint"] for who in ("alice", "bob", "carol")}
    cid = c.json("alice", "circle", "create", "Film crews Berlin")["circle_id"]
    for who in ("bob", "carol"):
        c.json(who, "join", c.json("alice", "invite", "create", cid)["invite"])
        c.json("alice", "member", "confirm", cid, who, "--fingerprint", fps[who])
    c.json("alice", "member", "promote", cid, "carol")
    circle = uuid.UUID(cid)

    alice = Entries(_circles(tmp_path, "alice", live_server, monkeypatch))
    ids = {}
    for n, text in enumerate(TEXTS):
        ids[text] = alice.post(
            circle,
            subject=_name(text),
            aliases=[_name(text), ANCHOR],
            text=text,
            categories=["harassment"],
            contact=text,
            affiliation=text,
            anonymous=n % 20 == 1,  # a few: anonymous posts cost tokens, 16 a week (§38.2)
        )["entry_id"]
    groups = _groups()
    bob_circles = _circles(tmp_path, "bob", live_server, monkeypatch)
    bob, bob_moderation = Entries(bob_circles), Moderation(bob_circles)
    link = c.json("alice", "circle", "takedown-link", cid)["link"]
    receipts = []
    for group in groups:
        joined = "\n".join(group)
        entry_id = ids[group[0]]
        bob.corroborate(circle, entry_id, text=joined)
        case = bob_moderation.report(circle, entry_id, reason="false", note=joined)["case_id"]
        decided = c.json(
            "carol", "moderation", "decide", cid, case, "--action", "dismiss", "--reason", joined
        )
        assert decided["status"] == "dismissed"
        name = group[0] if group[0].strip() else f"x{group[0]}"
        receipt = c.json(
            "jan",
            "takedown",
            "request",
            link,
            "--name",
            name,
            "--contact",
            joined[:500],
            "--text",
            joined,
        )
        receipts.append(receipt["receipt"])
        c.json(
            "carol",
            "moderation",
            "decide",
            cid,
            receipt["case_id"],
            "--action",
            "dismiss",
            "--reason",
            joined,
            "--response",
            joined,
        )
    monkeypatch.delenv("BACKCHANNEL_HOME")
    return {"c": c, "cid": cid, "ids": ids, "groups": groups, "receipts": receipts}


def test_hostile_text_is_shown_as_written_in_every_view(
    world: dict[str, Any], wide: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, cid, ids, groups = world["c"], world["cid"], world["ids"], world["groups"]

    # read --json: the exact originals; plain read: every string as docs/api.md says.
    read = {e["entry_id"]: e for e in c.json("bob", "read", cid, "--all")}
    for text, entry_id in ids.items():
        entry = read[entry_id]
        name = _name(text)
        assert (entry["subject"], entry["aliases"], entry["text"]) == (name, [name, ANCHOR], text)
        assert (entry["contact"], entry["affiliation"]) == (text, text)
    shown = _clean(c.run("bob", "read", cid, "--all"))
    for text in TEXTS:
        assert _isolated(text)[0] in shown  # contact, affiliation
        assert _isolated(_name(text))[0] in shown  # subject, alias
        for line in _isolated(text, multiline=True):
            assert line in shown  # the text, line by line

    # check: every warning has the anchor alias, so all of them are listed, as written.
    checked = c.json("bob", "check", cid, ANCHOR)
    assert {m["warning"]["entry_id"]: m["warning"]["subject"] for m in checked["matches"]} == {
        v: _name(k) for k, v in ids.items()
    }
    shown = _clean(c.run("bob", "check", cid, ANCHOR))
    for text in TEXTS:
        assert _isolated(_name(text))[0] in shown
    for text in TEXTS[::10]:  # the query itself is echoed back, as written
        _clean(c.run("bob", "check", cid, _name(text)))
        assert c.json("bob", "check", cid, _name(text))["query"] == _name(text)
    refused = c.run("bob", "check", cid, "\x1b[;]\x07[/]")  # no letters: an error, shown safely
    assert refused.exit_code == 1 and not FORBIDDEN.search(refused.stderr)
    assert refused.stderr.startswith("error [bad_name] ")

    # show: the warning, its corroboration and, for its author, the case.
    for group in groups:
        entry_id = ids[group[0]]
        shown_json = c.json("alice", "show", cid, entry_id)
        assert shown_json["corroboration_texts"][0]["text"] == "\n".join(group)
        shown = _clean(c.run("alice", "show", cid, entry_id))
        for text in group:
            for line in _isolated(text, multiline=True):
                assert line in shown

    # moderation list: report notes, takedown names, contacts and texts, decision reasons
    # and responses.
    cases = c.json("carol", "moderation", "list", cid)
    notes = sorted(x["note"] for x in cases if x["kind"] == "report")
    requests = sorted(x["text"] for x in cases if x["kind"] == "takedown")
    assert notes == requests == sorted("\n".join(g) for g in groups)
    responses = [d["response"] for x in cases for d in x["decisions"] if d.get("response")]
    assert sorted(responses) == requests
    shown = _clean(c.run("carol", "moderation", "list", cid, "--details"))
    for text in TEXTS:
        for line in _isolated(text, multiline=True):
            assert line in shown

    # takedown status: the admins' response, as the requester reads it.
    for receipt, group in zip(world["receipts"], groups, strict=True):
        status = c.json("jan", "takedown", "status", receipt)
        assert status == {"status": "dismissed", "response": "\n".join(group)}
        shown = _clean(c.run("jan", "takedown", "status", receipt))
        for text in group:
            for line in _isolated(text, multiline=True):
                assert line in shown

    # audit show: the decision reasons, decrypted for an admin.
    records = c.json("carol", "audit", "show", cid)
    reasons = [r["details"].get("reason") for r in records if r["kind"] == "case_decided"]
    assert sorted(reasons) == sorted("\n".join(g) for g in groups * 2)
    shown = _clean(c.run("carol", "audit", "show", cid))
    for text in TEXTS:
        for line in _isolated(text, multiline=True):
            assert line in shown

    # A read that fails halfway leaves the cursor where it was: nothing is skipped.
    printed = 0
    real_print = output.out.print

    def failing_print(*args: Any, **kwargs: Any) -> None:
        nonlocal printed
        printed += 1
        if printed == 20:
            raise OSError("the terminal went away")
        real_print(*args, **kwargs)

    monkeypatch.setattr(output.out, "print", failing_print)
    assert c.run("carol", "read", cid).exit_code != 0
    monkeypatch.setattr(output.out, "print", real_print)
    assert len(c.json("carol", "read", cid)) == len(TEXTS)
    assert c.json("carol", "read", cid) == []
