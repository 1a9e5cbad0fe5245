"""The Backchannel client: SDK (``Client``) and the ``backchannel`` CLI."""

from app.client.errors import ApiError, ClientError, NotLoggedIn, ProtocolError, TransportError
from app.client.sdk import Account, Client, UserKeys

__all__ = [
    "Account",
    "ApiError",
    "Client",
    "ClientError",
    "NotLoggedIn",
    "ProtocolError",
    "TransportError",
    "UserKeys",
]
