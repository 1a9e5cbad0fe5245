"""The Backchannel SDK: HTTP through httpx, every cryptographic step through ``app.crypto``.

Use it as a context manager; pass ``http=`` to inject an ``httpx.Client``
(tests pass one bound to the ASGI app).
"""

import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from app.client.errors import ApiError, ProtocolError, TransportError
from app.client.passphrase import MIN_PASSPHRASE_LENGTH, check_passphrase
from app.crypto import (
    AccountKeys,
    CryptoError,
    IdentityKeys,
    KdfParams,
    PublicIdentity,
    RecoveryCode,
    b64decode,
    b64encode,
    normalise_username,
    open_key_bundle,
    seal_key_bundle,
)
from app.crypto.circles import Invite
from app.crypto.kdf import SALT_BYTES
from app.crypto.labels import BUNDLE_PURPOSE_PASSPHRASE, BUNDLE_PURPOSE_RECOVERY

__all__ = ["MIN_PASSPHRASE_LENGTH", "Account", "Client", "UserKeys"]


@dataclass(frozen=True, repr=False)
class Account:
    """A signed-in account: the session token and the identity opened from the key bundle."""

    username: str
    token: str
    identity: IdentityKeys
    fingerprint: str
    recovery_code: RecoveryCode | None = None  # only right after register or recover

    def __repr__(self) -> str:
        return f"Account(username={self.username!r})"


@dataclass(frozen=True)
class UserKeys:
    username: str
    identity: PublicIdentity
    fingerprint: str


def _identity_json(public: PublicIdentity) -> dict[str, str]:
    return {
        "x25519_public": b64encode(public.x25519_public),
        "ed25519_public": b64encode(public.ed25519_public),
        "x25519_signature": b64encode(public.x25519_signature),
    }


def _parse_identity(data: dict[str, Any], *, verified_fp: str | None = None) -> PublicIdentity:
    """Parse and verify an identity. ``verified_fp``: a fingerprint already vouched for (by a
    signed key record); when the keys match it, the signature was checked before."""
    try:
        identity = PublicIdentity(
            x25519_public=b64decode(data["x25519_public"]),
            ed25519_public=b64decode(data["ed25519_public"]),
            x25519_signature=b64decode(data["x25519_signature"]),
        )
        if verified_fp is None or identity.fingerprint() != verified_fp:
            identity.verify()
    except (KeyError, TypeError, CryptoError) as exc:
        raise ProtocolError(
            "bad_identity", "the server returned an identity that does not verify"
        ) from exc
    return identity


def _same_keys(mine: PublicIdentity, published: PublicIdentity) -> bool:
    """Compare keys, not signatures: another client's Ed25519 signing may be randomised."""
    return hmac.compare_digest(
        mine.ed25519_public + mine.x25519_public,
        published.ed25519_public + published.x25519_public,
    )


def _invite_json(text: str) -> dict[str, str]:
    """What a registration carries of an invite: the values a redemption sends."""
    try:
        invite = Invite.parse(text)
    except CryptoError as exc:
        raise ProtocolError("bad_invite", str(exc)) from exc
    return {
        "circle_id": str(invite.circle_id),
        "invite_id": str(invite.invite_id),
        "secret": b64encode(invite.secret),
    }


def _kdf_json(params: KdfParams, salt: bytes) -> dict[str, Any]:
    return {
        "algorithm": params.algorithm,
        "opslimit": params.opslimit,
        "memlimit": params.memlimit,
        "salt": b64encode(salt),
    }


class Client:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        http: httpx.Client | None = None,
        timeout: float = 60.0,
        device_label: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        # Sent with each login so the account's session list can tell devices apart.
        self.device_label = device_label
        self._owns_http = http is None
        self._http = http or httpx.Client(base_url=self.base_url, timeout=timeout)

    def __enter__(self) -> "Client":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    # -- transport ---------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        anonymous: bool = False,
    ) -> Any:
        """Send one request; return the decoded JSON body or raise ``ApiError``.
        ``anonymous``: without the session token and, when this client owns its connection
        pool, on a connection of its own (a kept-alive one would tie the request to the
        session's requests, docs/protocol.md §38.7)."""
        headers = {} if anonymous or not self.token else {"Authorization": f"Bearer {self.token}"}
        try:
            if anonymous and self._owns_http:
                with httpx.Client(timeout=self._http.timeout) as fresh:
                    response = fresh.request(
                        method, self.base_url + path, json=json, params=params, headers=headers
                    )
            else:
                response = self._http.request(
                    method, self.base_url + path, json=json, params=params, headers=headers
                )
        except httpx.HTTPError as exc:
            raise TransportError(f"cannot reach {self.base_url}: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                code, message = str(error["code"]), str(error["message"])
            except (ValueError, KeyError, TypeError):
                code, message = "http_error", f"HTTP {response.status_code}"
            raise ApiError(response.status_code, code, message)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    @contextmanager
    def stream(self, path: str, *, read_timeout: float = 60.0) -> Iterator[Iterator[str]]:
        """Open a streamed GET (Server-Sent Events) and yield its lines as they come; a
        refusal raises ``ApiError`` as ``request`` does. ``read_timeout`` must outlast the
        server's heartbeat."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        timeout = httpx.Timeout(10.0, read=read_timeout)
        try:
            with self._http.stream(
                "GET", self.base_url + path, headers=headers, timeout=timeout
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    try:
                        error = response.json()["error"]
                        code, message = str(error["code"]), str(error["message"])
                    except (ValueError, KeyError, TypeError):
                        code, message = "http_error", f"HTTP {response.status_code}"
                    raise ApiError(response.status_code, code, message)
                yield response.iter_lines()
        except httpx.HTTPError as exc:
            raise TransportError(f"lost {self.base_url}: {type(exc).__name__}") from exc

    # -- accounts ----------------------------------------------------------------

    def _announced_kdf(self, username: str) -> tuple[KdfParams, bytes]:
        data = self.request("GET", "/v1/auth/params", params={"username": username})
        try:
            params = KdfParams(
                opslimit=data["opslimit"], memlimit=data["memlimit"], algorithm=data["algorithm"]
            )
            params.check()  # refuse weak parameters before the passphrase touches them
            salt = b64decode(data["salt"])
        except (KeyError, TypeError, CryptoError) as exc:
            raise ProtocolError("weak_kdf_params", f"refused KDF parameters: {exc}") from exc
        if len(salt) != SALT_BYTES:
            raise ProtocolError("bad_salt", "the server returned a salt of the wrong size")
        return params, salt

    def _open_session(
        self, data: dict[str, Any], *, username: str, wrap_key: bytes
    ) -> tuple[str, IdentityKeys]:
        """Open the returned key bundle and check it matches the published public keys."""
        user = data["user"]
        if user["username"] != username:
            raise ProtocolError("wrong_account", "the server answered for a different account")
        published = _parse_identity(user["identity"])
        try:
            identity = open_key_bundle(
                b64decode(user["key_bundle"]),
                key=wrap_key,
                username=username,
                purpose=BUNDLE_PURPOSE_PASSPHRASE,
            )
        except CryptoError as exc:
            raise ProtocolError("bad_key_bundle", "your key bundle does not open") from exc
        if not _same_keys(identity.public(), published):
            raise ProtocolError(
                "key_mismatch", "the server's public keys do not match your key bundle"
            )
        return str(data["token"]), identity

    def register(self, username: str, passphrase: str, *, invite: str | None = None) -> Account:
        """Make an account; ``invite`` (a circle invite) is what a server that makes
        accounts only for invite holders asks for. It is not redeemed here: join with it."""
        username = normalise_username(username)
        invite_json = None if invite is None else _invite_json(invite)
        check_passphrase(passphrase, username=username)
        params, _ = self._announced_kdf(username)
        salt = secrets.token_bytes(SALT_BYTES)
        keys = AccountKeys.from_passphrase(passphrase, salt, params)
        identity = IdentityKeys.generate()
        recovery = RecoveryCode.generate()
        body = {
            "username": username,
            "kdf": _kdf_json(params, salt),
            "auth_key": b64encode(keys.auth_key),
            "identity": _identity_json(identity.public()),
            "key_bundle": b64encode(
                seal_key_bundle(
                    identity,
                    key=keys.wrap_key,
                    username=username,
                    purpose=BUNDLE_PURPOSE_PASSPHRASE,
                )
            ),
            "recovery": self._recovery_json(identity, recovery, username),
        }
        if invite_json is not None:
            body["invite"] = invite_json
        body.update(self._device())
        data = self.request("POST", "/v1/auth/register", json=body)
        token, opened = self._open_session(data, username=username, wrap_key=keys.wrap_key)
        self.token = token
        return Account(username, token, opened, opened.public().fingerprint(), recovery)

    def _device(self) -> dict[str, str]:
        return {} if self.device_label is None else {"device_label": self.device_label}

    @staticmethod
    def _recovery_json(
        identity: IdentityKeys, recovery: RecoveryCode, username: str
    ) -> dict[str, str]:
        bundle = seal_key_bundle(
            identity, key=recovery.bundle_key, username=username, purpose=BUNDLE_PURPOSE_RECOVERY
        )
        return {"auth_key": b64encode(recovery.auth_key), "key_bundle": b64encode(bundle)}

    def login(self, username: str, passphrase: str) -> Account:
        username = normalise_username(username)
        params, salt = self._announced_kdf(username)
        keys = AccountKeys.from_passphrase(passphrase, salt, params)
        data = self.request(
            "POST",
            "/v1/auth/login",
            json={"username": username, "auth_key": b64encode(keys.auth_key), **self._device()},
        )
        token, identity = self._open_session(data, username=username, wrap_key=keys.wrap_key)
        self.token = token
        return Account(username, token, identity, identity.public().fingerprint())

    def logout(self) -> None:
        self.request("POST", "/v1/auth/logout")
        self.token = None

    def me(self) -> dict[str, Any]:
        data: dict[str, Any] = self.request("GET", "/v1/me")
        return data

    def whoami(self, *, username: str, fingerprint: str) -> UserKeys:
        """This session's account as the server serves it, checked against this device's keys."""
        data = self.me()
        if data.get("username") != username:
            raise ProtocolError("wrong_account", "the server answered for a different account")
        published = _parse_identity(data["identity"])
        if published.fingerprint() != fingerprint:
            raise ProtocolError(
                "identity_changed",
                f"your keys on the server changed (was {fingerprint}, "
                f"now {published.fingerprint()})",
            )
        return UserKeys(username, published, fingerprint)

    def sessions(self) -> list[dict[str, Any]]:
        """This account's live sessions (ids and times; ``current`` marks this one)."""
        data: list[dict[str, Any]] = self.request("GET", "/v1/me/sessions")
        return data

    def end_sessions(
        self, *, username: str, passphrase: str, session_ids: list[str] | None = None
    ) -> int:
        """End the named sessions, or every other one; the server asks for the passphrase's
        auth key again, so a stolen token alone cannot end its owner's sessions."""
        username = normalise_username(username)
        params, salt = self._announced_kdf(username)
        keys = AccountKeys.from_passphrase(passphrase, salt, params)
        body: dict[str, Any] = {"auth_key": b64encode(keys.auth_key)}
        if session_ids is not None:
            body["session_ids"] = session_ids
        data = self.request("POST", "/v1/me/sessions/end", json=body)
        return int(data["ended"])

    def reauthenticate(self, *, username: str, passphrase: str) -> str:
        """The passphrase's auth key again (base64), for the calls that ask for it."""
        username = normalise_username(username)
        params, salt = self._announced_kdf(username)
        return b64encode(AccountKeys.from_passphrase(passphrase, salt, params).auth_key)

    def change_passphrase(
        self, *, username: str, current: str, new: str, identity: IdentityKeys
    ) -> None:
        """Re-derive with the current passphrase, then store keys derived from the new one."""
        username = normalise_username(username)
        check_passphrase(new, username=username)
        params, salt = self._announced_kdf(username)
        current_keys = AccountKeys.from_passphrase(current, salt, params)
        new_salt = secrets.token_bytes(SALT_BYTES)
        new_keys = AccountKeys.from_passphrase(new, new_salt, params)
        self.request(
            "POST",
            "/v1/me/passphrase",
            json={
                "current_auth_key": b64encode(current_keys.auth_key),
                "kdf": _kdf_json(params, new_salt),
                "auth_key": b64encode(new_keys.auth_key),
                "key_bundle": b64encode(
                    seal_key_bundle(
                        identity,
                        key=new_keys.wrap_key,
                        username=username,
                        purpose=BUNDLE_PURPOSE_PASSPHRASE,
                    )
                ),
            },
        )

    def recover(self, username: str, code: RecoveryCode, new_passphrase: str) -> Account:
        """Open the recovery bundle, set a new passphrase and a new one-time recovery code."""
        username = normalise_username(username)
        check_passphrase(new_passphrase, username=username)
        try:
            data = self.request(
                "POST",
                "/v1/auth/recovery/bundle",
                json={"username": username, "recovery_auth_key": b64encode(code.auth_key)},
            )
        except ApiError as exc:
            if exc.code != "invalid_credentials":
                raise
            raise ApiError(
                exc.status,
                exc.code,
                "the username or the recovery code is wrong, or the code was used already "
                "(each recovery prints a new one): check both and try again",
            ) from None
        if data["username"] != username:
            raise ProtocolError("wrong_account", "the server answered for a different account")
        published = _parse_identity(data["identity"])
        try:
            identity = open_key_bundle(
                b64decode(data["recovery_bundle"]),
                key=code.bundle_key,
                username=username,
                purpose=BUNDLE_PURPOSE_RECOVERY,
            )
        except CryptoError as exc:
            raise ProtocolError("bad_key_bundle", "the recovery bundle does not open") from exc
        if not _same_keys(identity.public(), published):
            raise ProtocolError("key_mismatch", "the recovery bundle holds different keys")
        params, _ = self._announced_kdf(username)
        salt = secrets.token_bytes(SALT_BYTES)
        keys = AccountKeys.from_passphrase(new_passphrase, salt, params)
        fresh_code = RecoveryCode.generate()
        data = self.request(
            "POST",
            "/v1/auth/recovery/complete",
            json={
                "username": username,
                "recovery_auth_key": b64encode(code.auth_key),
                "kdf": _kdf_json(params, salt),
                "auth_key": b64encode(keys.auth_key),
                "key_bundle": b64encode(
                    seal_key_bundle(
                        identity,
                        key=keys.wrap_key,
                        username=username,
                        purpose=BUNDLE_PURPOSE_PASSPHRASE,
                    )
                ),
                "recovery": self._recovery_json(identity, fresh_code, username),
                **self._device(),
            },
        )
        token, opened = self._open_session(data, username=username, wrap_key=keys.wrap_key)
        self.token = token
        return Account(username, token, opened, opened.public().fingerprint(), fresh_code)

    def user_keys(self, username: str, *, verified_fp: str | None = None) -> UserKeys:
        """Another user's public keys, for exactly that user, with the identity signature
        verified (``verified_fp``: a fingerprint a signed key record lists for them)."""
        username = normalise_username(username)
        data = self.request("GET", f"/v1/users/{quote(username, safe='')}")
        if data.get("username") != username:
            raise ProtocolError(
                "wrong_account", f"asked for {username}'s keys, the server answered for another"
            )
        identity = _parse_identity(data["identity"], verified_fp=verified_fp)
        return UserKeys(username, identity, identity.fingerprint())
