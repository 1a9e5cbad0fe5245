"""The CLI in a real pseudo-terminal at 80x24 and at COLUMNS=60 (issue 12): every token it
prints (fingerprint, recovery code, invite, short ids, takedown link, receipt) is on a
line of its own, whole, and pasting it back in works, as printed and as a terminal that
copies its visual lines would give it (with a line break every width characters)."""

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

BACKCHANNEL = str(Path(sys.executable).parent / "backchannel")
PASS = "everyone has this long passphrase"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)")
ISOLATES = re.compile("[\u2068\u2069]")


class Terminal:
    def __init__(self, server: str, root: Path, width: int, *, columns_env: bool) -> None:
        self.server, self.root, self.width, self.columns_env = server, root, width, columns_env

    def env(self, who: str) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.root),
            "TERM": "xterm-256color",
            "BACKCHANNEL_SERVER": self.server,
            "BACKCHANNEL_HOME": str(self.root / who),
            "BACKCHANNEL_PASSPHRASE": PASS,
        }
        if self.columns_env:
            env["COLUMNS"] = str(self.width)
        return env

    def run(self, who: str, *args: str) -> list[str]:
        """Run in a pty of this width; the lines a person sees (colours dropped)."""
        primary, secondary = pty.openpty()
        # With COLUMNS set, the pty is wider: the program must follow COLUMNS.
        size = (24, 200 if self.columns_env else self.width, 0, 0)
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", *size))
        process = subprocess.Popen(
            [BACKCHANNEL, *args],
            stdin=secondary,
            stdout=secondary,
            stderr=secondary,
            env=self.env(who),
            close_fds=True,
        )
        os.close(secondary)
        chunks = []
        while True:
            ready, _, _ = select.select([primary], [], [], 120)
            if not ready:
                process.kill()
                raise AssertionError(f"no output from {args}")
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the program ended and closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(primary)
        code = process.wait(timeout=60)
        text = ANSI.sub("", b"".join(chunks).decode("utf-8"))
        # What stays on screen: a carriage return (the spinner) starts the line again.
        lines = [line.split("\r")[-1].rstrip() for line in text.replace("\r\n", "\n").split("\n")]
        assert code == 0, "\n".join(lines)
        for line in lines:  # nothing printed is wider than the terminal, but tokens
            assert len(ISOLATES.sub("", line)) <= self.width or _is_token(line), line
        return lines

    def json(self, who: str, *args: str) -> object:
        result = subprocess.run(
            [BACKCHANNEL, *args, "--json"],
            env=self.env(who),
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return json.loads(result.stdout.strip().splitlines()[-1])

    def after(self, lines: list[str], label: str) -> str:
        """The first token line after the line starting with ``label``."""
        at = next(i for i, line in enumerate(lines) if ISOLATES.sub("", line).startswith(label))
        return next(line.strip() for line in lines[at + 1 :] if _is_token(line))

    def wrapped(self, token: str) -> str:
        """The token as a terminal that copies its visual lines gives it."""
        return "\n".join(token[i : i + self.width] for i in range(0, len(token), self.width))


TOKEN = re.compile(
    r"(\d{5} ){5}\d{5}"  # fingerprint
    r"|([0-9A-Z]{4}-){7}[0-9A-Z]{4}"  # recovery code
    r"|bcinvite1\.\S+"
    r"|https?://\S+/(takedown|receipt)#\S+"
)


def _is_token(line: str) -> bool:
    return bool(TOKEN.fullmatch(line.strip()))


def _short_id(lines: list[str], after: str) -> str:
    for line in lines:
        plain = ISOLATES.sub("", line)
        if after in plain:
            found = re.search(re.escape(after) + r"\s*([0-9a-f]{8})\b", plain)
            if found:
                return found.group(1)
    raise AssertionError(f"no short id after {after!r} in {lines}")


@pytest.mark.parametrize(("width", "columns_env"), [(80, False), (60, True)], ids=["80x24", "60"])
def test_every_printed_token_can_be_pasted_back(
    live_server: str, tmp_path: Path, width: int, columns_env: bool, request: pytest.FixtureRequest
) -> None:
    if "postgres" in request.node.name:
        pytest.skip("what a terminal shows does not depend on the database: SQLite only")
    t = Terminal(live_server, tmp_path, width, columns_env=columns_env)
    registered = t.run("alice", "register", "alice")
    fingerprint = t.after(registered, "Fingerprint:")
    code = t.after(registered, "Recovery code")
    assert _is_token(fingerprint) and _is_token(code)
    bob_fp = t.after(t.run("bob", "register", "bob"), "Fingerprint:")

    # The recovery code, pasted back as printed and as visual lines.
    recovered = subprocess.run(
        [BACKCHANNEL, "recover", "alice", "--json"],
        env=t.env("alice")
        | {"BACKCHANNEL_RECOVERY_CODE": t.wrapped(code), "BACKCHANNEL_NEW_PASSPHRASE": PASS},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert recovered.returncode == 0, recovered.stderr
    assert json.loads(recovered.stdout)["fingerprint"] == fingerprint

    created = t.run("alice", "circle", "create", "Film crews Berlin")
    circle = _short_id(created, "(id")
    listed = t.run("alice", "circle", "list")
    assert any(circle in line for line in listed)  # the id column is never cut
    invite = t.after(t.run("alice", "invite", "create", circle), "Send this privately")
    assert _is_token(invite)
    joined = t.run("bob", "join", t.wrapped(invite))  # pasted as visual lines
    assert t.after(joined, "Request sent") == bob_fp
    t.run("alice", "member", "confirm", "film crews berlin", "bob", "--fingerprint", bob_fp)

    posted = t.run(
        "alice",
        "post",
        circle,
        "--subject",
        "Jan Novák",
        "--category",
        "harassment",
        "--text",
        "Grabbed my arm after the shoot. " * 6,
    )
    entry = _short_id(posted, "under your name):")
    read = t.run("bob", "read", "Film crews Berlin")
    assert _short_id(read, "id") == entry
    t.run("bob", "corroborate", circle, entry, "--text", "Me too")
    shown = t.run("bob", "show", circle, entry)
    assert any("Me too" in line for line in shown)
    case = _short_id(t.run("bob", "report", circle, entry, "--reason", "false"), "(case")
    cases = t.run("alice", "moderation", "list", circle)
    assert any(line.lstrip().startswith(case) for line in cases)  # the table's first column

    # A reveal written to a file without --json is what check-reveal reads.
    reveal = tmp_path / "reveal.json"
    with reveal.open("w") as sink:
        subprocess.run(
            [BACKCHANNEL, "moderation", "reveal", circle, case],
            env=t.env("alice"),
            stdout=sink,
            check=True,
            timeout=120,
        )
    assert t.json("operator", "check-reveal", str(reveal))["ok"] is True  # type: ignore[index]

    link = t.after(t.run("alice", "circle", "takedown-link", circle), "Takedown link")
    assert _is_token(link)
    requested = t.run(
        "jan", "takedown", "request", f"<{t.wrapped(link)}>", "--name", "Jan", "--text", "false"
    )
    receipt = t.after(requested, "Sent, encrypted")
    assert _is_token(receipt)
    status = t.run("jan", "takedown", "status", t.wrapped(receipt))
    assert any("open" in line for line in status)

    sessions = t.run("alice", "sessions", "list")
    session = _short_id(sessions, "id")
    assert t.json("alice", "sessions", "end", session) == {"ended": 1}
