"""Generate docs/vectors/release-v1.json, the vectors of web releases (§35).

    .venv/bin/python -m tests.crypto.make_release_vectors > docs/vectors/release-v1.json

Every input is fixed (Ed25519 signatures are deterministic), so the output is the same on
every run. Three release keys A, B and C; releases 1 to 3 signed by A, release 4 signed by B
after A's rotation statement, release 5 by C after A -> B -> C. Each case is a served file
and the pin a browser holds, with the pin after it or the error both clients raise.
"""

import json
import sys
from dataclasses import replace
from typing import Any

from app.crypto import b64encode, labels
from app.crypto.circles import canonical_json
from app.crypto.errors import CryptoError
from app.crypto.release import (
    ReleasePin,
    Rotation,
    SignedRelease,
    asset_digest,
    check_release,
    release_key_fingerprint,
    release_public_key,
    sign_release,
)

SEEDS = {name: bytes([index]) * 32 for index, name in enumerate("ABC", start=1)}
PAGE = b"<!doctype html><title>Backchannel</title>\n"
SCRIPT = b'export const hello = "world";\n'
OLD_SCRIPT = b'export const hello = "old world";\n'


def assets(script: bytes) -> dict[str, str]:
    return {
        "/": asset_digest(PAGE),
        "/join": asset_digest(PAGE),
        "/static/ui/app.js": asset_digest(script),
    }


def pin_json(pin: ReleasePin | None) -> dict[str, Any] | None:
    if pin is None:
        return None
    return {"key": b64encode(pin.key), "release": pin.release, "digest": b64encode(pin.digest)}


def outcome(signed_text: str, pin: ReleasePin | None) -> dict[str, Any]:
    try:
        after = check_release(SignedRelease.parse(signed_text.encode("ascii")), pin)
    except CryptoError as exc:
        return {"error": type(exc).__name__}
    return {"pin_after": pin_json(after)}


def refusals(good: dict[str, Any]) -> list[dict[str, str]]:
    """Served files of the wrong shape: both clients refuse each with InvalidKey, before
    any signature is checked (the signature is the good one of release 5). The size limits
    (1000 assets, 256 KiB) are checked by the tests themselves, to keep this file small."""
    manifest = good["manifest"]
    rotations = manifest["rotations"]

    def edit(**changes: Any) -> dict[str, Any]:
        return {**good, "manifest": {**manifest, **changes}}

    def assets(extra: dict[str, Any]) -> dict[str, Any]:
        return edit(assets={**manifest["assets"], **extra})

    digest = "0" * 64
    cases: list[tuple[str, Any]] = [
        ("a path with ..", assets({"/static/../app.js": digest})),
        ("a path without its leading slash", assets({"static/app.js": digest})),
        ("a path with a query", assets({"/static/app.js?v=1": digest})),
        ("a hidden name", assets({"/static/.env": digest})),
        ("an uppercase digest", assets({"/x.js": "A" * 64})),
        ("a short digest", assets({"/x.js": "0" * 63})),
        ("a digest that is not text", assets({"/x.js": 7})),
        ("no assets", edit(assets={})),
        ("release 0", edit(release=0)),
        ("release true", edit(release=True)),
        ("release 2^53", edit(release=2**53)),
        ("an empty version", edit(version="")),
        ("a version with a space", edit(version="1.0 beta")),
        ("a 31-byte key", edit(key=b64encode(bytes(31)))),
        ("another type", edit(type="backchannel.web-release2")),
        ("version 2", edit(v=2)),
        ("a broken chain", edit(rotations=[rotations[1], rotations[0]])),
        ("a chain that does not end at the key", edit(rotations=rotations[:1])),
        (
            "a rotation to the same key",
            edit(rotations=[{**rotations[0], "new": rotations[0]["old"]}]),
        ),
        ("17 rotations", edit(rotations=rotations * 8 + rotations[:1])),
        ("a rotation with an unknown field", edit(rotations=[{**r, "at": 1} for r in rotations])),
        ("no signature", {"manifest": manifest}),
        ("a 63-byte signature", {**good, "signature": b64encode(bytes(63))}),
        ("not an object", [good]),
    ]
    return [{"name": name, "file": canonical_json(value).decode("ascii")} for name, value in cases]


def build_vectors() -> dict[str, Any]:
    public = {name: release_public_key(seed) for name, seed in SEEDS.items()}
    a_to_b = Rotation.sign(SEEDS["A"], public["B"])
    b_to_c = Rotation.sign(SEEDS["B"], public["C"])
    releases = {
        1: sign_release(SEEDS["A"], release=1, version="0.1.0", assets=assets(OLD_SCRIPT)),
        2: sign_release(SEEDS["A"], release=2, version="0.1.1", assets=assets(SCRIPT)),
        3: sign_release(SEEDS["A"], release=3, version="0.2.0", assets=assets(SCRIPT)),
        4: sign_release(
            SEEDS["B"], release=4, version="0.3.0", assets=assets(SCRIPT), rotations=[a_to_b]
        ),
        5: sign_release(
            SEEDS["C"],
            release=5,
            version="0.4.0",
            assets=assets(SCRIPT),
            rotations=[a_to_b, b_to_c],
        ),
    }
    text = {number: signed.to_bytes().decode("ascii") for number, signed in releases.items()}
    pin2 = ReleasePin.of(releases[2])
    # Another manifest under release number 2, signed by A: a fork.
    fork = sign_release(SEEDS["A"], release=2, version="0.1.1", assets=assets(OLD_SCRIPT))
    # B signs a release with no statement from A.
    unvouched = sign_release(SEEDS["B"], release=3, version="0.2.0", assets=assets(SCRIPT))
    # A's statement with a flipped bit.
    bad_sig = bytearray(a_to_b.signature)
    bad_sig[0] ^= 1
    forged = sign_release(
        SEEDS["B"],
        release=4,
        version="0.3.0",
        assets=assets(SCRIPT),
        rotations=[replace(a_to_b, signature=bytes(bad_sig))],
    )
    swapped = json.loads(text[2])
    swapped["manifest"]["assets"]["/static/ui/app.js"] = asset_digest(b"evil();\n")
    added = json.loads(text[2])
    added["manifest"]["assets"]["/static/ui/extra.js"] = asset_digest(b"evil();\n")
    cases = [
        ("first use pins the manifest's key", text[2], None),
        ("the pinned release again", text[2], pin2),
        ("a newer release by the same key", text[3], pin2),
        ("an older release by the same key", text[1], pin2),
        ("another manifest under the pinned number", fork.to_bytes().decode("ascii"), pin2),
        ("a new key with the old key's statement", text[4], pin2),
        ("two rotations from the pinned key", text[5], pin2),
        ("a new key and no statement", unvouched.to_bytes().decode("ascii"), pin2),
        ("a statement whose signature fails", forged.to_bytes().decode("ascii"), pin2),
        ("an asset's digest changed after signing", canonical_json(swapped).decode(), pin2),
        ("an asset added after signing", canonical_json(added).decode(), pin2),
        ("not canonical: whitespace", text[2].replace(",", ", ", 1), pin2),
        (
            "not canonical: unknown field",
            canonical_json({**json.loads(text[2]), "note": "x"}).decode(),
            pin2,
        ),
    ]
    return {
        "protocol": "backchannel",
        "layer": "web-release",
        "refusals": refusals(json.loads(text[5])),
        "version": 1,
        "labels": {
            "RELEASE_TYPE": labels.RELEASE_TYPE,
            "RELEASE_SIGNATURE_CONTEXT": labels.RELEASE_SIGNATURE_CONTEXT.hex(),
            "RELEASE_ROTATION_CONTEXT": labels.RELEASE_ROTATION_CONTEXT.hex(),
            "RELEASE_FINGERPRINT_PREFIX": labels.RELEASE_FINGERPRINT_PREFIX.hex(),
        },
        "keys": {
            name: {
                "seed": SEEDS[name].hex(),
                "public": b64encode(public[name]),
                "fingerprint": release_key_fingerprint(public[name]),
            }
            for name in SEEDS
        },
        "assets": {
            "page": PAGE.decode("ascii"),
            "script": SCRIPT.decode("ascii"),
            "old_script": OLD_SCRIPT.decode("ascii"),
        },
        "rotation_a_to_b": {
            "message": Rotation.message(public["A"], public["B"]).hex(),
            "signature": b64encode(a_to_b.signature),
        },
        "releases": {
            str(number): {
                "file": text[number],
                "signed_message": (
                    labels.RELEASE_SIGNATURE_CONTEXT + signed.manifest.to_bytes()
                ).hex(),
                "digest": b64encode(signed.manifest.digest()),
            }
            for number, signed in releases.items()
        },
        "cases": [
            {"name": name, "file": file, "pin": pin_json(pin), **outcome(file, pin)}
            for name, file, pin in cases
        ],
    }


if __name__ == "__main__":
    json.dump(build_vectors(), sys.stdout, indent=2, ensure_ascii=True)
    sys.stdout.write("\n")
