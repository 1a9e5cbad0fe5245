"""Web releases (docs/protocol.md §35): the signed manifest of every asset the web client
loads, the release key's rotation statements, and the pinning rule a returning browser
applies.

The release key is an Ed25519 key kept by whoever cuts releases, never by a server; the
server only serves the signed manifest. Only SHA-256 and Ed25519 are used, so the browser's
service worker checks all of this with WebCrypto alone (web/src/protocol/release.js), before
any of the server's code runs.

Decisions: the served file is canonical JSON and must be exactly those bytes; the signature
covers the canonical manifest; a key may change only along a chain of rotation statements,
each signed by the key before it, that starts at the pinned key; a lower release number is a
rollback and the same number with other content a fork, both refused.
"""

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from app.crypto import labels
from app.crypto.circles import canonical_json, load_json
from app.crypto.encoding import b64decode, b64encode
from app.crypto.errors import (
    BadSignature,
    InvalidKey,
    ReleaseFork,
    ReleaseRollback,
    UntrustedSigner,
)

MAX_ASSETS = 1000
MAX_ROTATIONS = 16
MAX_RELEASE = 2**53 - 1  # exact in JavaScript too
MAX_FILE_BYTES = 256 * 1024
# A URL path the web client loads: "/" or slash-separated names, no "..", no query.
ASSET_PATH = re.compile(r"^/(?:[A-Za-z0-9_-][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*)?$")
VERSION = re.compile(r"^[0-9A-Za-z.+-]{1,64}$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def release_key_fingerprint(public_key: bytes) -> str:
    """What the page's footer and the release notes show: 128 bits as 8 groups of 4 hex."""
    if len(public_key) != 32:
        raise InvalidKey("a release key is 32 bytes")
    digest = hashlib.sha256(labels.RELEASE_FINGERPRINT_PREFIX + public_key).hexdigest()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


def asset_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class Rotation:
    """The old release key's statement that the new one follows it (§35.3)."""

    old: bytes
    new: bytes
    signature: bytes

    @staticmethod
    def message(old: bytes, new: bytes) -> bytes:
        return labels.RELEASE_ROTATION_CONTEXT + old + new

    @classmethod
    def sign(cls, old_seed: bytes, new_public: bytes) -> "Rotation":
        signing = _signing_key(old_seed)
        if len(new_public) != 32:
            raise InvalidKey("a release key is 32 bytes")
        old = bytes(signing.verify_key)
        if new_public == old:
            raise InvalidKey("a rotation names a new key")
        signature = signing.sign(cls.message(old, new_public)).signature
        return cls(old=old, new=new_public, signature=signature)

    def verify(self) -> None:
        _verify(self.old, self.message(self.old, self.new), self.signature, "rotation statement")

    def to_json(self) -> dict[str, str]:
        return {
            "new": b64encode(self.new),
            "old": b64encode(self.old),
            "signature": b64encode(self.signature),
        }

    @classmethod
    def from_json(cls, data: Any) -> "Rotation":
        if not isinstance(data, dict) or set(data) != {"new", "old", "signature"}:
            raise InvalidKey("a rotation has exactly new, old and signature")
        rotation = cls(
            old=_b64(data["old"], 32),
            new=_b64(data["new"], 32),
            signature=_b64(data["signature"], 64),
        )
        if rotation.old == rotation.new:
            raise InvalidKey("a rotation names a new key")
        return rotation


@dataclass(frozen=True)
class Manifest:
    """What one release of the web client is: every URL path it loads, with its SHA-256."""

    release: int
    version: str
    key: bytes
    assets: Mapping[str, str]
    rotations: tuple[Rotation, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.release <= MAX_RELEASE:
            raise InvalidKey(f"a release number is 1 to {MAX_RELEASE}")
        if not VERSION.match(self.version):
            raise InvalidKey("a version is 1 to 64 of [0-9A-Za-z.+-]")
        if len(self.key) != 32:
            raise InvalidKey("a release key is 32 bytes")
        if not 1 <= len(self.assets) <= MAX_ASSETS:
            raise InvalidKey(f"a release lists 1 to {MAX_ASSETS} assets")
        for path, digest in self.assets.items():
            if not ASSET_PATH.match(path) or ".." in path or not SHA256_HEX.match(digest):
                raise InvalidKey("an asset is a URL path with a lowercase hex SHA-256")
        if len(self.rotations) > MAX_ROTATIONS:
            raise InvalidKey(f"at most {MAX_ROTATIONS} rotations")
        for before, after in zip(self.rotations, self.rotations[1:], strict=False):
            if before.new != after.old:
                raise InvalidKey("the rotations do not form a chain")
        if self.rotations and self.rotations[-1].new != self.key:
            raise InvalidKey("the last rotation does not name the signing key")

    def to_json(self) -> dict[str, Any]:
        return {
            "assets": dict(sorted(self.assets.items())),
            "key": b64encode(self.key),
            "release": self.release,
            "rotations": [rotation.to_json() for rotation in self.rotations],
            "type": labels.RELEASE_TYPE,
            "v": 1,
            "version": self.version,
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    def digest(self) -> bytes:
        """SHA-256 of the canonical manifest: what a pin remembers of a release."""
        return hashlib.sha256(self.to_bytes()).digest()

    @classmethod
    def from_json(cls, data: Any) -> "Manifest":
        fields = {"assets", "key", "release", "rotations", "type", "v", "version"}
        if not isinstance(data, dict) or set(data) != fields:
            raise InvalidKey("a manifest has exactly the fields of §35.1")
        if data["v"] != 1 or data["type"] != labels.RELEASE_TYPE:
            raise InvalidKey("not a version 1 web release")
        release, version, assets, rotations = (
            data["release"],
            data["version"],
            data["assets"],
            data["rotations"],
        )
        if type(release) is not int or not isinstance(version, str):
            raise InvalidKey("release is an integer and version a string")
        if not isinstance(assets, dict) or not all(isinstance(v, str) for v in assets.values()):
            raise InvalidKey("assets map paths to hex digests")
        if not isinstance(rotations, list) or len(rotations) > MAX_ROTATIONS:
            raise InvalidKey(f"rotations is a list of at most {MAX_ROTATIONS}")
        return cls(
            release=release,
            version=version,
            key=_b64(data["key"], 32),
            assets=assets,
            rotations=tuple(Rotation.from_json(item) for item in rotations),
        )


@dataclass(frozen=True)
class SignedRelease:
    """The file a server serves at /web-release.json: a manifest and its signature."""

    manifest: Manifest
    signature: bytes

    def to_bytes(self) -> bytes:
        return canonical_json(
            {"manifest": self.manifest.to_json(), "signature": b64encode(self.signature)}
        )

    @classmethod
    def parse(cls, raw: bytes) -> "SignedRelease":
        """Parse and check the signature under the manifest's own key (not yet trust in it)."""
        if len(raw) > MAX_FILE_BYTES:
            raise InvalidKey("a release file is at most 256 KiB")
        data = load_json(raw)
        if not isinstance(data, dict) or set(data) != {"manifest", "signature"}:
            raise InvalidKey("a release file has exactly manifest and signature")
        signed = cls(
            manifest=Manifest.from_json(data["manifest"]), signature=_b64(data["signature"], 64)
        )
        if signed.to_bytes() != raw:
            raise InvalidKey("the release file is not in canonical form")
        signed.verify_signature()
        return signed

    def verify_signature(self) -> None:
        message = labels.RELEASE_SIGNATURE_CONTEXT + self.manifest.to_bytes()
        _verify(self.manifest.key, message, self.signature, "release manifest")
        for rotation in self.manifest.rotations:
            rotation.verify()


@dataclass(frozen=True)
class ReleasePin:
    """What a returning browser (or a monitor) remembers: the key, the release, its digest."""

    key: bytes
    release: int
    digest: bytes

    @classmethod
    def of(cls, signed: SignedRelease) -> "ReleasePin":
        manifest = signed.manifest
        return cls(key=manifest.key, release=manifest.release, digest=manifest.digest())


def sign_release(
    seed: bytes,
    *,
    release: int,
    version: str,
    assets: Mapping[str, str],
    rotations: Sequence[Rotation] = (),
) -> SignedRelease:
    """Sign a manifest with the release key (where releases are cut, never on a server)."""
    signing = _signing_key(seed)
    manifest = Manifest(
        release=release,
        version=version,
        key=bytes(signing.verify_key),
        assets=dict(sorted(assets.items())),
        rotations=tuple(rotations),
    )
    signature = signing.sign(labels.RELEASE_SIGNATURE_CONTEXT + manifest.to_bytes()).signature
    return SignedRelease(manifest=manifest, signature=signature)


def check_release(signed: SignedRelease, pin: ReleasePin | None) -> ReleasePin:
    """The pin after accepting ``signed`` (§35.4); raises if a pinned browser must refuse it.

    With no pin (first use) the manifest's own key is trusted: the one trust-on-first-use step.
    """
    signed.verify_signature()
    manifest = signed.manifest
    if pin is None:
        return ReleasePin.of(signed)
    require_key_chain(signed, pin.key)
    if manifest.release < pin.release:
        raise ReleaseRollback(
            f"release {manifest.release} is older than the pinned release {pin.release}"
        )
    after = ReleasePin.of(signed)
    if manifest.release == pin.release and not hmac.compare_digest(after.digest, pin.digest):
        raise ReleaseFork(f"release {manifest.release} is not the release {pin.release} pinned")
    return after


def require_key_chain(signed: SignedRelease, key: bytes) -> None:
    """``UntrustedSigner`` unless ``signed`` is signed by ``key`` or by a key ``key`` handed
    over to through the manifest's rotation statements (whose signatures parsing checked)."""
    manifest = signed.manifest
    if hmac.compare_digest(manifest.key, key):
        return
    if not any(hmac.compare_digest(rotation.old, key) for rotation in manifest.rotations):
        raise UntrustedSigner("the release is signed by a key the pinned key never vouched for")


def check_asset(manifest: Manifest, path: str, body: bytes) -> None:
    """Raise ``InvalidKey`` unless ``path`` is listed and ``body`` has its digest."""
    expected = manifest.assets.get(path)
    if expected is None:
        raise InvalidKey(f"{path} is not part of release {manifest.release}")
    if not hmac.compare_digest(asset_digest(body), expected):
        raise InvalidKey(f"{path} is not the file release {manifest.release} lists")


def release_public_key(seed: bytes) -> bytes:
    return bytes(_signing_key(seed).verify_key)


def _signing_key(seed: bytes) -> SigningKey:
    if len(seed) != 32:
        raise InvalidKey("a release key seed is 32 bytes")
    return SigningKey(seed)


def _verify(public_key: bytes, message: bytes, signature: bytes, what: str) -> None:
    try:
        VerifyKey(public_key).verify(message, signature)
    except BadSignatureError as exc:
        raise BadSignature(f"the {what} signature does not verify") from exc


def _b64(value: Any, size: int) -> bytes:
    if not isinstance(value, str):
        raise InvalidKey("expected base64 text")
    raw = b64decode(value)
    if len(raw) != size:
        raise InvalidKey(f"expected {size} bytes")
    return raw
