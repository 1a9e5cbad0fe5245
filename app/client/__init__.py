"""The Backchannel SDK (and, in ``app.client.cli``, the ``backchannel`` command line).

The names below are the SDK's public surface, documented in docs/sdk.md; import them from
here. Everything else in ``app.client`` and ``app.crypto`` is internal and may change.
"""

from app.client.anon import Anonymous, FileTokenStore, MemoryTokenStore
from app.client.audit import Audit, AuditFailure, AuditPins
from app.client.cases import CasePage, cases_page, list_cases
from app.client.circles import Circles, Member, VerifiedCircle
from app.client.decisions import decide, dismiss_cases, open_takedown_ids
from app.client.entries import Entries, ReadEntry
from app.client.errors import (
    ApiError,
    ClientError,
    CommonPassphrase,
    NotLoggedIn,
    PassphraseContainsUsername,
    ProtocolError,
    TransportError,
    WeakPassphrase,
)
from app.client.moderation import Moderation
from app.client.passphrase import check_passphrase
from app.client.reveal import check_reveal, export_reveal
from app.client.sdk import Account, Client, UserKeys
from app.client.sealed import Sealed
from app.client.takedown import file_takedown, takedown_status
from app.client.trust import TrustStore

__all__ = [
    "Account",
    "Anonymous",
    "ApiError",
    "Audit",
    "AuditFailure",
    "AuditPins",
    "CasePage",
    "Circles",
    "Client",
    "ClientError",
    "CommonPassphrase",
    "Entries",
    "FileTokenStore",
    "Member",
    "MemoryTokenStore",
    "Moderation",
    "NotLoggedIn",
    "PassphraseContainsUsername",
    "ProtocolError",
    "ReadEntry",
    "Sealed",
    "TransportError",
    "TrustStore",
    "UserKeys",
    "VerifiedCircle",
    "WeakPassphrase",
    "cases_page",
    "check_passphrase",
    "check_reveal",
    "decide",
    "dismiss_cases",
    "export_reveal",
    "file_takedown",
    "list_cases",
    "open_takedown_ids",
    "takedown_status",
]
