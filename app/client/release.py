"""What a server serves, compared with a signed web release (docs/protocol.md §35): the
check `backchannel web verify` runs, so operators and outside monitors can watch a server
the way a pinned browser's worker does, without a browser.

The trusted release is the file published with the release (``--manifest``), or the one the
server serves when a release key is given (``--key``): then it must be signed by that key, or
by a key it handed over to through rotation statements.
"""

from dataclasses import dataclass, field

import httpx

from app.crypto.release import (
    SignedRelease,
    asset_digest,
    release_key_fingerprint,
    require_key_chain,
)

RELEASE_PATH = "/web-release.json"


@dataclass
class ReleaseCheck:
    """The outcome: the release compared, and every path the server serves differently."""

    release: int
    version: str
    key_fingerprint: str
    checked: int = 0
    differences: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "release": self.release,
            "version": self.version,
            "key_fingerprint": self.key_fingerprint,
            "checked": self.checked,
            "differences": self.differences,
        }


def check_server(
    http: httpx.Client, base_url: str, *, published: SignedRelease | None, key: bytes | None
) -> ReleaseCheck:
    """Fetch the server's release file and every listed asset; list what differs.

    ``published`` is the release file from the release notes (already parsed, so its own
    signature verified); ``key`` the release key it must be signed by, or handed over from.
    CryptoError if the trusted release is not signed as required."""
    base = base_url.rstrip("/")
    answer = http.get(base + RELEASE_PATH)
    served_raw = answer.content if answer.status_code == 200 else None
    if published is None:
        if served_raw is None:
            raise httpx.HTTPStatusError(
                f"{RELEASE_PATH} answered {answer.status_code}",
                request=answer.request,
                response=answer,
            )
        published = SignedRelease.parse(served_raw)
    if key is not None:
        require_key_chain(published, key)
    manifest = published.manifest
    result = ReleaseCheck(
        release=manifest.release,
        version=manifest.version,
        key_fingerprint=release_key_fingerprint(manifest.key),
    )
    if served_raw != published.to_bytes():
        problem = (
            f"answered {answer.status_code}"
            if served_raw is None
            else "serves another release file than the one checked"
        )
        result.differences.append({"path": RELEASE_PATH, "problem": problem})
    for path, digest in sorted(manifest.assets.items()):
        response = http.get(base + path)
        result.checked += 1
        if response.status_code != 200:
            result.differences.append({"path": path, "problem": f"answered {response.status_code}"})
        elif asset_digest(response.content) != digest:
            result.differences.append(
                {
                    "path": path,
                    "problem": f"sha256 {asset_digest(response.content)}, release lists {digest}",
                }
            )
    return result
