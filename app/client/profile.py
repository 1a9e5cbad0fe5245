"""The local profile: server URL, session token and identity keys, in a 0600 file.

The identity secret is stored so commands need no passphrase; the file is the
device's key, exactly like an SSH key. ``logout`` deletes it.
"""

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from app.client.errors import NotLoggedIn
from app.crypto import IdentityKeys, b64decode, b64encode

PROFILE_FILE = "profile.json"


def home() -> Path:
    return Path(os.environ.get("BACKCHANNEL_HOME") or Path.home() / ".backchannel")


def write_private(path: Path, content: bytes) -> None:
    """Atomically write a file readable only by its owner."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class Profile:
    server: str
    username: str
    token: str
    identity_secret: str  # base64 of IdentityKeys bytes
    fingerprint: str

    @property
    def identity(self) -> IdentityKeys:
        return IdentityKeys.from_bytes(b64decode(self.identity_secret))

    @classmethod
    def create(cls, *, server: str, username: str, token: str, identity: IdentityKeys) -> "Profile":
        return cls(
            server=server,
            username=username,
            token=token,
            identity_secret=b64encode(bytes(identity)),
            fingerprint=identity.public().fingerprint(),
        )

    def save(self, directory: Path | None = None) -> None:
        target = (directory or home()) / PROFILE_FILE
        write_private(target, json.dumps(asdict(self), indent=2).encode())

    @classmethod
    def load(cls, directory: Path | None = None) -> "Profile":
        path = (directory or home()) / PROFILE_FILE
        try:
            data = json.loads(path.read_text())
            return cls(**{k: data[k] for k in cls.__dataclass_fields__})
        except FileNotFoundError as exc:
            raise NotLoggedIn("not logged in: run `backchannel login USERNAME`") from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise NotLoggedIn(f"the profile at {path} is damaged; log in again") from exc

    @staticmethod
    def delete(directory: Path | None = None) -> None:
        ((directory or home()) / PROFILE_FILE).unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"Profile(username={self.username!r}, server={self.server!r})"
