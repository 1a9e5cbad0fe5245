"""Takedown requests for the SDK (docs/protocol.md §31): no account needed. The request is
encrypted here to the circle's admins and paid for with a proof of work on the server's
challenge (§31.7); the receipt (a link holding a secret) reads its status and the admins'
response. As web/src/client/takedown.js."""

from typing import Any

from app.client.circles import _protocol
from app.client.errors import ApiError, ProtocolError
from app.client.sdk import Client
from app.crypto import CryptoError, InvalidKey, b64decode, b64encode
from app.crypto.proofs import SOLUTIONS, check_work, proof_seed, solve_proof
from app.crypto.reports import case_hash
from app.crypto.takedowns import (
    Receipt,
    TakedownLink,
    TakedownRequest,
    check_takedown_fields,
    open_response,
    seal_takedown,
)

__all__ = ["file_takedown", "takedown_status"]


# A challenge can expire while it is solved (the circle got busier): solve a fresh one.
ATTEMPTS = 3


def file_takedown(
    link_text: str, *, name: str, contact: str, text: str, http: Any = None
) -> dict[str, Any]:
    """Encrypt the request in this process, do the proof of work the server asks for
    (§31.7), and send both to the server the link names."""
    try:
        link = TakedownLink.parse(link_text)
    except CryptoError as exc:
        raise ProtocolError("bad_link", str(exc)) from exc
    try:
        check_takedown_fields(name, contact, text)  # before any work: too long, say so now
    except CryptoError as exc:
        raise ProtocolError("bad_takedown", str(exc)) from exc
    receipt = Receipt.create(link)
    request = TakedownRequest(link.circle_id, receipt.case_id, name, contact, text)
    sealed = seal_takedown(request, receipt)
    named = {
        "circle_id": str(link.circle_id),
        "generation": link.generation,
        "moderation_key": b64encode(link.public_key),
    }
    body = {
        **named,
        "case_id": str(receipt.case_id),
        "receipt_key": b64encode(receipt.public_key),
        "receipt_token": b64encode(receipt.token),
        "ciphertext": b64encode(sealed),
    }
    with Client(link.base_url, http=http) as client:
        for attempt in range(1, ATTEMPTS + 1):
            proof = _prove(
                client.request("POST", "/v1/takedown/challenge", json=named), receipt, sealed
            )
            try:
                result = client.request("POST", "/v1/takedown", json=body | {"proof": proof})
                break
            except ApiError as exc:
                if exc.code != "challenge_expired" or attempt == ATTEMPTS:
                    raise
    return {"case_id": result["case_id"], "receipt": str(receipt), "status": result["status"]}


def _prove(challenge: dict[str, Any], receipt: Receipt, sealed: bytes) -> dict[str, Any]:
    """Solve a challenge for this request; refuse one no client should work on."""
    try:
        raw = b64decode(challenge["challenge"])
        work = challenge["work"]
        if challenge["solutions"] != SOLUTIONS:
            raise InvalidKey(f"a proof has {SOLUTIONS} solutions")
        check_work(work)
        nonces = solve_proof(proof_seed(raw, receipt.case_id, case_hash(sealed)), work)
    except (CryptoError, KeyError, TypeError) as exc:
        raise ProtocolError("bad_challenge", f"the server's challenge is unusable: {exc}") from exc
    return {"challenge": challenge["challenge"], "nonces": nonces}


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
