"""Cutting a web release (docs/protocol.md §35, docs/operations.md "Web releases"): the
release key's file, its rotation statements, and the signed manifest of what this package
serves. This runs where releases are cut, with the release key; a server never holds the
key, it only serves the signed file it is given (``BACKCHANNEL_WEB_RELEASE``).
"""

import json
import os
from pathlib import Path

from nacl.utils import random

from app.crypto.circles import canonical_json, load_json
from app.crypto.encoding import b64decode, b64encode
from app.crypto.errors import InvalidKey
from app.crypto.release import (
    Rotation,
    SignedRelease,
    release_key_fingerprint,
    release_public_key,
    sign_release,
)
from app.web import asset_digests

KEY_FILE_PREFIX = "backchannel-release-key-v1:"


def new_release_key(path: Path) -> bytes:
    """Write a new release key (its 32-byte seed) to ``path``, readable by its owner only.
    Refuses to overwrite: losing a release key means every pinned browser alarms."""
    seed = random(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(f"{KEY_FILE_PREFIX}{b64encode(seed)}\n")
    return release_public_key(seed)


def read_release_key(path: Path) -> bytes:
    text = path.read_text(encoding="ascii").strip()
    if not text.startswith(KEY_FILE_PREFIX):
        raise InvalidKey(f"{path} is not a Backchannel release key file")
    seed = b64decode(text.removeprefix(KEY_FILE_PREFIX))
    if len(seed) != 32:
        raise InvalidKey(f"{path} does not hold a 32-byte seed")
    return seed


def describe_key(public_key: bytes) -> str:
    return f"public key {b64encode(public_key)}\nfingerprint {release_key_fingerprint(public_key)}"


def rotation_statement(old_key: Path, new_key: Path) -> bytes:
    """The old key's statement that the new key follows it, as canonical JSON."""
    rotation = Rotation.sign(
        read_release_key(old_key), release_public_key(read_release_key(new_key))
    )
    return canonical_json(rotation.to_json())


def read_rotation(path: Path) -> Rotation:
    rotation = Rotation.from_json(load_json(path.read_bytes()))
    rotation.verify()
    return rotation


def signed_release(
    key: Path, *, release: int, version: str, rotations: list[Path]
) -> SignedRelease:
    """Sign the manifest of every asset this installed package serves."""
    return sign_release(
        read_release_key(key),
        release=release,
        version=version,
        assets=asset_digests(),
        rotations=[read_rotation(path) for path in rotations],
    )


def summary(signed: SignedRelease) -> str:
    manifest = signed.manifest
    return json.dumps(
        {
            "release": manifest.release,
            "version": manifest.version,
            "assets": len(manifest.assets),
            "key_fingerprint": release_key_fingerprint(manifest.key),
        }
    )
