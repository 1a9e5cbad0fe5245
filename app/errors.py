"""Domain errors with stable codes, mapped to HTTP in one place.

Every error response has the shape ``{"error": {"code": "...", "message": "..."}}``.

    BackchannelError
    ├── InvalidRequest (422 invalid_request)        schema or value errors
    ├── PayloadTooLarge (413 payload_too_large)
    ├── UnsupportedMediaType (415 unsupported_media_type)
    ├── NotAuthenticated (401 not_authenticated)    missing or forged token
    │   └── SessionEnded                            revoked, idle or expired token
    ├── InvalidCredentials (401 invalid_credentials)
    ├── Forbidden (403 forbidden)
    ├── NotFound (404 not_found) ─ UserNotFound (404 user_not_found)
    ├── Conflict (409 conflict) ─ UsernameTaken (409 username_taken)
    ├── RateLimited (429 rate_limited) ─ AnonRateLimited (429 anon_rate_limited)
    ├── TooManyStreams (429 too_many_streams)
    └── ServerBusy (503 server_busy) ─ DatabaseUnavailable (503 database_unavailable)
                                     ─ StreamsFull (503 streams_full)
"""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import security_log
from app.db import is_unavailable


class BackchannelError(Exception):
    status_code = 400
    code = "bad_request"
    message = "The request could not be processed."
    # True when the failing use case's writes must still land (failed-login counters).
    keep_writes = False
    # The security event the error handler writes for this refusal (None: not a security
    # event, or already written with more detail, as authentication failures are).
    security_event: str | None = None

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None):
        super().__init__(message or self.message)
        self.detail = message or self.message
        self.headers = headers or {}


class InvalidRequest(BackchannelError):
    status_code = 422
    code = "invalid_request"
    message = "The request does not match the schema."
    security_event = "request_rejected"


class PayloadTooLarge(BackchannelError):
    status_code = 413
    code = "payload_too_large"
    message = "The request body is too large."
    security_event = "request_rejected"


class UnsupportedMediaType(BackchannelError):
    status_code = 415
    code = "unsupported_media_type"
    message = "Request bodies must be application/json."
    security_event = "request_rejected"


class NotAuthenticated(BackchannelError):
    status_code = 401
    code = "not_authenticated"
    message = "A valid session is required."


class SessionEnded(NotAuthenticated):
    message = "Your session has ended; log in again."


class InvalidCredentials(BackchannelError):
    status_code = 401
    code = "invalid_credentials"
    message = "Username or passphrase is wrong."
    keep_writes = True  # the failure is counted even though the request fails


class Forbidden(BackchannelError):
    status_code = 403
    code = "forbidden"
    message = "You may not do this."
    security_event = "access_denied"


class NotFound(BackchannelError):
    status_code = 404
    code = "not_found"
    message = "Not found."


class ReleaseNotPublished(NotFound):
    code = "release_not_published"
    message = "This server publishes no signed web release (BACKCHANNEL_WEB_RELEASE is unset)."


class UserNotFound(NotFound):
    code = "user_not_found"
    message = "No such user."


class Conflict(BackchannelError):
    status_code = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class UsernameTaken(Conflict):
    code = "username_taken"
    message = "That username is taken."


class InvalidCursor(InvalidRequest):
    code = "invalid_cursor"
    message = "The page cursor is not one this server wrote."


class KdfParametersRejected(InvalidRequest):
    code = "kdf_params_rejected"
    message = "The key-derivation parameters are not the ones this server announces."


class InvalidIdentity(InvalidRequest):
    code = "invalid_identity"
    message = "The identity signature does not verify."


class RateLimited(BackchannelError):
    status_code = 429
    code = "rate_limited"
    message = "Too many failed attempts; try again later."
    security_event = "rate_limited"

    def __init__(self, retry_after: int, message: str | None = None):
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})


class AnonRateLimited(RateLimited):
    """Too many requests without a session for one circle from one address (anon/throttle.py)."""

    code = "anon_rate_limited"
    message = "Too many anonymous requests to this circle from here; try again later."


class ServerBusy(BackchannelError):
    status_code = 503
    code = "server_busy"
    message = "The server is busy; try again shortly."
    security_event = "rate_limited"

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "5"})


class DatabaseUnavailable(ServerBusy):
    """The database is down, restarting or unreachable: the use case was rolled back (or, had
    the connection broken during its commit, landed whole)."""

    code = "database_unavailable"
    message = "The database is unavailable; try again shortly."
    security_event = "backend_unavailable"


class TooManyStreams(BackchannelError):
    """A session (or its account) holds as many live update streams (GET /v1/events) as it
    may."""

    status_code = 429
    code = "too_many_streams"
    message = (
        "This session or account already holds the most live update streams it may; close one."
    )
    security_event = "rate_limited"

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "5"})


class StreamsFull(ServerBusy):
    """This worker holds as many live update streams as its operator allows."""

    code = "streams_full"
    message = "The server holds as many live update streams as it can; try again shortly."


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


_HTTP_CODES = {
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or InvalidRequest.message


def _refused(request: Request, event: str, status: int, code: str) -> None:
    """One security event per refused request (ASVS 16.3.2, 16.3.3)."""
    level = logging.INFO if event == "request_rejected" else logging.WARNING
    security_log.record(
        event,
        outcome="refused",
        level=level,
        status=status,
        code=code,
        **security_log.request_fields(request),
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BackchannelError)
    async def _domain(request: Request, exc: BackchannelError) -> JSONResponse:
        if exc.security_event is not None:
            _refused(request, exc.security_event, exc.status_code, exc.code)
        return JSONResponse(
            error_body(exc.code, exc.detail), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Only the location and pydantic's message: never echo the submitted values.
        _refused(request, "request_rejected", 422, InvalidRequest.code)
        return JSONResponse(
            error_body(InvalidRequest.code, _validation_message(exc)), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI's one 400 is a JSON body that is not UTF-8: malformed JSON like any other
            # (RFC 8259 §8.1), so it gets the same 422 as a syntax error.
            _refused(request, "request_rejected", 422, InvalidRequest.code)
            return JSONResponse(
                error_body(InvalidRequest.code, "body: JSON decode error (not UTF-8)"),
                status_code=422,
            )
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        # Handled here, not by the catch-all below (which closes the connection after its
        # 500), so clients keep their connection and get a 503 to retry on.
        if not is_unavailable(exc):
            raise exc
        return await _domain(request, DatabaseUnavailable())

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the log only; the client learns nothing about the cause.
        security_log.record(
            "unexpected_error",
            outcome="error",
            level=logging.ERROR,
            exc_info=exc,
            status=500,
            error=type(exc).__name__,
            **security_log.request_fields(request),
        )
        # This handler answers outside the app's middleware, so it sets nosniff itself.
        return JSONResponse(
            error_body("internal_error", "Something went wrong on the server."),
            status_code=500,
            headers={"X-Content-Type-Options": "nosniff"},
        )


class Gone(BackchannelError):
    status_code = 410
    code = "gone"
    message = "This is no longer available."


# Circles and invites.
class CircleNotFound(NotFound):
    code = "circle_not_found"
    message = "No such circle, or you are not in it."
    security_event = "access_denied"  # also what outsiders get: the 404 hides the circle


class MemberNotFound(NotFound):
    code = "member_not_found"
    message = "That user is not in this circle in the needed state."


class NotAMember(Forbidden):
    code = "not_a_member"
    message = "You are no longer a member of this circle."


class MembershipPending(Forbidden):
    code = "membership_pending"
    message = "An admin has not confirmed your membership yet."


class AdminRequired(Forbidden):
    code = "admin_required"
    message = "Only the circle's admins may do this."


class OwnerRequired(Forbidden):
    code = "owner_required"
    message = "Only the circle's owners may do this."


class InvalidRecord(InvalidRequest):
    code = "invalid_record"
    message = "The key record is malformed, does not chain or is not validly signed."


class RotationRequired(InvalidRequest):
    code = "rotation_required"
    message = "Removing an active member needs a key rotation in the same request."


class DepartureRequired(InvalidRequest):
    code = "departure_required"
    message = "An active member leaves with a signed departure statement."


class InvalidDeparture(InvalidRequest):
    code = "invalid_departure"
    message = "The departure statement is malformed or not validly signed."


class MemberSetMismatch(Conflict):
    code = "member_set_mismatch"
    message = "The record or wraps do not match the circle's members."


class CircleDeleted(Gone):
    code = "circle_deleted"
    message = "This circle was deleted by an owner; GET /v1/circles says by whom."


class InvalidDeletion(InvalidRequest):
    code = "invalid_deletion"
    message = "The deletion statement is malformed, stale or not validly signed."


class CircleChanged(Conflict):
    code = "circle_changed"
    message = "The circle changed since you looked; refresh and try again."


class RotationDue(Conflict):
    code = "rotation_due"
    message = "A member left; rotate the circle key first."


class LastOwner(Conflict):
    code = "last_owner"
    message = "The last owner cannot leave, be removed or be demoted."


class WrongMemberState(Conflict):
    code = "wrong_member_state"
    message = "That member is not in a state that allows this."


class AlreadyMember(Conflict):
    code = "already_member"
    message = "You are already in this circle (or waiting for confirmation)."


class CircleExists(Conflict):
    code = "circle_exists"
    message = "A circle with this id exists."


class InviteNotFound(NotFound):
    code = "invite_not_found"
    message = "This invite does not exist or its secret is wrong."
    security_event = "access_denied"  # a wrong secret is a failed capability check


class InviteRequired(Forbidden):
    code = "invite_required"
    message = "This server makes accounts only with a circle invite."
    security_event = "access_denied"


class InviteExpired(Gone):
    code = "invite_expired"
    message = "This invite has expired."


class InviteRevoked(Gone):
    code = "invite_revoked"
    message = "This invite was revoked."


class InviteUsedUp(Gone):
    code = "invite_used_up"
    message = "This invite has been used as many times as it allows."


# Entries.
class EntryNotFound(NotFound):
    code = "entry_not_found"
    message = "No such entry in this circle."


class StaleEpoch(Conflict):
    code = "stale_epoch"
    message = "The circle key rotated; sync and encrypt under the current epoch."


class EntryExists(Conflict):
    code = "entry_exists"
    message = "An entry with this id exists with different content."


class AlreadyCorroborated(Conflict):
    code = "already_corroborated"
    message = "You have already corroborated this entry."


class CorroborationExists(Conflict):
    code = "corroboration_exists"
    message = "A corroboration with this id exists."


class EntryGone(Gone):
    code = "entry_gone"
    message = "This entry was retracted or has expired."


class NotAuthor(Forbidden):
    code = "not_author"
    message = "Only the author may do this."


class AuthorMismatch(InvalidRequest):
    code = "author_mismatch"
    message = "A named post must be signed with your own identity key."


class BadEnvelope(InvalidRequest):
    code = "bad_signature"
    message = "The signature does not verify for this circle, epoch and id."


class BadCiphertext(InvalidRequest):
    code = "bad_ciphertext_size"
    message = "Ciphertexts are padded to a size bucket."


class SelfCorroboration(Forbidden):
    code = "self_corroboration"
    message = "This is your own warning: authors cannot corroborate what they posted."


class BadExpiry(InvalidRequest):
    code = "bad_expiry"
    message = "expires_at is a whole Unix second between 1 and 3650 days from now."


class BadTerms(InvalidRequest):
    code = "bad_terms_signature"
    message = "The entry's terms (author tag, expiry) are not signed by its author key."


# Moderation and audit.
class ModerationKeyMissing(Conflict):
    code = "moderation_key_missing"
    message = "This circle has no moderation key yet; an admin's client makes one."


class ModerationKeyStale(Conflict):
    code = "moderation_key_stale"
    message = "Reports are sealed to the newest moderation key; sync and try again."


class ModerationKeyConflict(Conflict):
    code = "moderation_key_conflict"
    message = "Another admin changed the moderation key first; sync and try again."


class InvalidModerationKey(InvalidRequest):
    code = "invalid_moderation_key"
    message = "The moderation key record, its signature or its wraps are not acceptable."


class ModeratorSetMismatch(Conflict):
    code = "moderator_set_mismatch"
    message = "The moderation key must name and be wrapped to exactly the circle's admins."


class CaseNotFound(NotFound):
    code = "case_not_found"
    message = "No such moderation case in this circle."


class CaseExists(Conflict):
    code = "case_exists"
    message = "A case with this id already exists."


class AlreadyReported(Conflict):
    code = "already_reported"
    message = "You have already reported this entry."


class TakedownLinkInvalid(NotFound):
    code = "takedown_link_invalid"
    message = "This takedown link does not name a circle's moderation key on this server."
    security_event = "access_denied"


class ReceiptNotFound(NotFound):
    code = "receipt_not_found"
    message = "No takedown request matches this receipt."
    security_event = "access_denied"


class ChallengeInvalid(InvalidRequest):
    code = "challenge_invalid"
    message = "This is not a challenge this server gave out for this circle."


class ChallengeExpired(Gone):
    code = "challenge_expired"
    message = "The challenge expired, or the circle got busier since: solve a new one."


class ProofInvalid(InvalidRequest):
    code = "proof_invalid"
    message = "The proof of work does not meet the challenge."


class InvalidDecision(InvalidRequest):
    code = "invalid_decision"
    message = "The decision is malformed, not signed by you, or not for this case."


class DecisionConflict(Conflict):
    code = "decision_conflict"
    message = "The case changed since you read it (another decision landed); sync and try again."


class DecisionNotAllowed(Conflict):
    code = "decision_not_allowed"
    message = "This action does not apply to the case or entry in its current state."


# Sealed warnings (docs/protocol.md §36).
class SealedNotSetUp(Conflict):
    code = "sealed_not_set_up"
    message = "No admin has set up sealed warnings in this circle yet."


class InvalidSealedSettings(InvalidRequest):
    code = "invalid_sealed_settings"
    message = "The settings record or its signature is not acceptable."


class SealedSettingsConflict(Conflict):
    code = "sealed_settings_conflict"
    message = "Another admin changed the sealed-warning settings first; sync and try again."


class SealedKeyUnavailable(BackchannelError):
    status_code = 503
    code = "sealed_key_unavailable"
    message = "This server's secret key no longer gives the circle's pinned VOPRF key."


class EvaluationLimit(BackchannelError):
    status_code = 429
    code = "evaluation_limit"
    message = "You have used this circle's daily name evaluations; try again tomorrow."
    security_event = "rate_limited"


class InvalidBlinded(InvalidRequest):
    code = "invalid_blinded"
    message = "Blinded elements must be canonical ristretto255 elements, 1 to 10 per request."


class InvalidSealedFiling(InvalidRequest):
    code = "invalid_sealed_filing"
    message = "The sealed filing is malformed, not signed by you, or not for this circle."


class SealedThresholdChanged(Conflict):
    code = "sealed_k_changed"
    message = "The circle's k changed; sync the settings and seal again."


class FilingExists(Conflict):
    code = "filing_exists"
    message = "A sealed filing with this id already exists."


class FilingNotFound(NotFound):
    code = "filing_not_found"
    message = "No such sealed filing of yours in this circle."


class FilingClosed(Conflict):
    code = "filing_closed"
    message = "This sealed filing has matched or was withdrawn; it cannot be withdrawn now."


# Anonymous posting tokens (docs/protocol.md §38).
class AnonNotSetUp(Conflict):
    code = "anon_not_set_up"
    message = "No admin has signed this circle's token issuance key for the current epoch yet."


class InvalidIssuanceRecord(InvalidRequest):
    code = "invalid_issuance_record"
    message = "The issuance record is malformed, not signed by you, or not this epoch's key."


class IssuanceRecordExists(Conflict):
    code = "issuance_record_exists"
    message = "This epoch's issuance key is already signed."


class TokenLimit(BackchannelError):
    status_code = 429
    code = "token_limit"
    message = "You have taken this week's anonymous posting tokens for this circle."
    security_event = "rate_limited"


class BadToken(Forbidden):
    code = "bad_token"
    message = "This is not a valid anonymous posting token for this circle."


class StaleToken(Conflict):
    code = "stale_token"
    message = "This token is for an earlier epoch of the circle; fetch new tokens."


class TokenSpent(Conflict):
    code = "token_spent"
    message = "This anonymous posting token has been spent already."


class AnonymousNeedsToken(InvalidRequest):
    code = "anonymous_needs_token"
    message = "Anonymous warnings and corroborations are sent with a token and no session."


class InvalidSealedAuthor(InvalidRequest):
    code = "invalid_sealed_author"
    message = "The sealed author is missing, the wrong size, or sealed to another key."


class NotAnonymous(NotFound):
    code = "not_anonymous"
    message = "Only anonymous warnings and corroborations posted with a token can be unmasked."
