"""Errors raised by the Backchannel SDK.

ClientError
├── ApiError           the server answered with an error; ``code`` is its stable code
├── TransportError     the server could not be reached
├── ProtocolError      the server's answer failed a cryptographic check (possible attack)
├── AuditFailure       a circle's audit log does not verify (app.client.audit)
├── NotLoggedIn        no usable profile in BACKCHANNEL_HOME
└── WeakPassphrase     the chosen passphrase is too short or too long
    ├── CommonPassphrase              it is on the bundled list of common passphrases
    └── PassphraseContainsUsername    it contains the username

``protocol_error`` turns an ``app.crypto`` error into the ``ProtocolError`` whose code
docs/protocol.md §17 lists for it.
"""

from app.crypto.errors import (
    BadProof,
    BadSignature,
    CryptoError,
    DecryptionFailed,
    RecordChainBroken,
    UntrustedSigner,
    WrongEpoch,
)
from app.crypto.sealed_filings import NotEnoughFilers, NotEnoughShares


class ClientError(Exception):
    code = "client_error"


class ApiError(ClientError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class TransportError(ClientError):
    code = "server_unreachable"


class ProtocolError(ClientError):
    """Raised with a specific ``code`` when the server's data does not verify."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class AuditFailure(ClientError):
    """The log does not verify; ``code`` says how, ``message`` names the record."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class NotLoggedIn(ClientError):
    code = "not_logged_in"


class WeakPassphrase(ClientError):
    code = "weak_passphrase"


class CommonPassphrase(WeakPassphrase):
    code = "common_passphrase"


class PassphraseContainsUsername(WeakPassphrase):
    code = "passphrase_contains_username"


PROTOCOL_CODES: dict[type[CryptoError], str] = {
    NotEnoughFilers: "not_enough_filers",  # before UntrustedSigner, its base
    NotEnoughShares: "not_enough_shares",  # before DecryptionFailed, its base
    BadSignature: "bad_signature",
    BadProof: "bad_proof",
    UntrustedSigner: "untrusted_signer",
    WrongEpoch: "wrong_epoch",
    RecordChainBroken: "broken_chain",
    DecryptionFailed: "decryption_failed",
}


def protocol_error(exc: CryptoError) -> ProtocolError:
    """The ``ProtocolError`` for a protocol library error: its §17 code, else ``invalid_data``."""
    for kind, code in PROTOCOL_CODES.items():
        if isinstance(exc, kind):
            return ProtocolError(code, str(exc))
    return ProtocolError("invalid_data", str(exc))
