"""What an install is and speaks, each version declared once and shown by both commands'
``--version``: the package release (``version`` in pyproject.toml), the HTTP API (every route
under ``/v{API_VERSION}``, docs/api.md) and the protocol (docs/protocol.md,
``app.crypto.labels.PROTOCOL_VERSION``). Client-side: nothing here needs the server's packages.
"""

from importlib.metadata import version
from typing import Final

from app.crypto.labels import PROTOCOL_VERSION

__all__ = ["API_VERSION", "PACKAGE_VERSION", "PROTOCOL_VERSION", "describe"]

PACKAGE_VERSION: Final = version("backchannel")
API_VERSION: Final = 1


def describe(command: str) -> str:
    """``backchannel 0.1.0 (HTTP API v1, protocol v1)``: the first line of ``--version``."""
    return f"{command} {PACKAGE_VERSION} (HTTP API v{API_VERSION}, protocol v{PROTOCOL_VERSION})"
