"""Takedown requests for the SDK (docs/protocol.md §31): no account needed. The request is
encrypted here to the circle's admins; the receipt (a link holding a secret) reads its
status and the admins' response. As web/src/client/takedown.js."""

from typing import Any

from app.client.circles import _protocol
from app.client.errors import ProtocolError
from app.client.sdk import Client
from app.crypto import CryptoError, b64decode, b64encode
from app.crypto.takedowns import (
    Receipt,
    TakedownLink,
    TakedownRequest,
    check_takedown_fields,
    open_response,
    seal_takedown,
)

__all__ = ["file_takedown", "takedown_status"]


def file_takedown(
    link_text: str, *, name: str, contact: str, text: str, http: Any = None
) -> dict[str, Any]:
    """Encrypt the request in this process and send it to the server the link names."""
    try:
        link = TakedownLink.parse(link_text)
        check_takedown_fields(name, contact, text)
    except CryptoError as exc:
        raise ProtocolError("bad_link", str(exc)) from exc
    receipt = Receipt.create(link)
    request = TakedownRequest(link.circle_id, receipt.case_id, name, contact, text)
    sealed = seal_takedown(request, receipt)
    with Client(link.base_url, http=http) as client:
        result = client.request(
            "POST",
            "/v1/takedown",
            json={
                "circle_id": str(link.circle_id),
                "case_id": str(receipt.case_id),
                "generation": link.generation,
                "moderation_key": b64encode(link.public_key),
                "receipt_key": b64encode(receipt.public_key),
                "receipt_token": b64encode(receipt.token),
                "ciphertext": b64encode(sealed),
            },
        )
    return {"case_id": result["case_id"], "receipt": str(receipt), "status": result["status"]}


def takedown_status(receipt_text: str, *, http: Any = None) -> dict[str, Any]:
    try:
        receipt = Receipt.parse(receipt_text)
    except CryptoError as exc:
        raise ProtocolError("bad_receipt", str(exc)) from exc
    with Client(receipt.base_url, http=http) as client:
        result = client.request(
            "POST",
            "/v1/takedown/status",
            json={"case_id": str(receipt.case_id), "receipt_token": b64encode(receipt.token)},
        )
    response = None
    if result.get("response") is not None:
        try:
            response = open_response(b64decode(result["response"]), receipt)
        except CryptoError as exc:
            raise _protocol(exc) from exc
    return {"case_id": str(receipt.case_id), "status": result["status"], "response": response}
