"""The ``backchannel-server`` command as installed: a client-only install (``pip install
backchannel``) has the command but not the server's packages, so it says which extra to add
instead of failing with an ImportError. The list is the ``server`` extra itself, read from the
installed package's metadata, so pyproject.toml stays the one place that states it.
"""

import re
import sys
from importlib.metadata import PackageNotFoundError, distribution, requires

# `name[extras] >=1; extra == "server"`: the distribution name, and the extra it belongs to.
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)[^;]*;\s*(.*)$")
_SERVER_EXTRA = re.compile(r"""\bextra\s*==\s*["']server["']""")


def missing_server_requirements() -> list[str]:
    """The server extra's distributions that are not installed."""
    missing = []
    for requirement in requires("backchannel") or []:
        match = _REQUIREMENT.match(requirement)
        if match is None or not _SERVER_EXTRA.search(match.group(2)):
            continue
        try:
            distribution(match.group(1))
        except PackageNotFoundError:
            missing.append(match.group(1))
    return missing


def main() -> None:
    missing = missing_server_requirements()
    if missing:
        sys.stderr.write(
            "backchannel-server needs the server's packages, which this install does not have "
            f"({', '.join(missing)}): install them with  pip install 'backchannel[server]'\n"
        )
        raise SystemExit(2)
    from app.cli import main as server_main

    server_main()
