"""The CLI's copy of synced warnings on disk: encrypted at rest, bound to its purpose, user,
server and circle, written atomically 0600, and a file that does not open is started over."""

import shutil
import stat
import uuid
from pathlib import Path

import pytest

from app.client.cache import FileCache, cache_key
from app.client.entries import Entries
from app.crypto import IdentityKeys
from tests.conftest import World

MARKER = "DISK-MARKER-Vq3x"


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def file_cache(world: World, directory: Path, **overrides: object) -> FileCache:
    carol = world.carol
    values: dict[str, object] = {
        "identity": carol.account.identity,
        "username": carol.name,
        "server": "http://testserver",
    }
    values.update(overrides)
    return FileCache(directory, **values)  # type: ignore[arg-type]


def test_the_copy_on_disk_is_encrypted_private_and_read_back(world: World, cache_dir: Path) -> None:
    Entries(world.bob.circles).post(
        world.circle_id, subject=f"Subject {MARKER}", text=MARKER, categories=["other"]
    )
    Entries(world.carol.circles, cache=file_cache(world, cache_dir)).sync(world.circle_id)
    [path] = cache_dir.iterdir()
    assert path.name == f"{world.circle_id}.warnings"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    raw = path.read_bytes()
    assert MARKER.encode() not in raw and b"Subject" not in raw and b"entry_id" not in raw

    fresh = Entries(world.carol.circles, cache=file_cache(world, cache_dir))
    held = fresh.cache.load(world.circle_id)
    assert held is not None and [w.data["text"] for w in held.warnings.values()] == [MARKER]
    requests: list[str] = []
    original = fresh.client.request

    def spy(method: str, path: str, **kw: object) -> object:
        requests.append(str(kw.get("params")))
        return original(method, path, **kw)  # type: ignore[arg-type]

    fresh.client.request = spy  # type: ignore[method-assign]
    [match] = fresh.check(world.circle_id, MARKER).matches
    assert match.warning["text"] == MARKER
    assert f"'changed_after': {held.change_seq}" in " ".join(requests)  # only what is new


def test_a_file_for_another_user_server_or_circle_does_not_open(
    world: World, cache_dir: Path
) -> None:
    Entries(world.bob.circles).post(
        world.circle_id, subject="Bound", text="x", categories=["other"]
    )
    Entries(world.carol.circles, cache=file_cache(world, cache_dir)).sync(world.circle_id)
    written = cache_dir / f"{world.circle_id}.warnings"
    for other in (
        {"username": "alice"},
        {"server": "http://elsewhere"},
        {"identity": IdentityKeys.generate()},
    ):
        assert file_cache(world, cache_dir, **other).load(world.circle_id) is None, other
        assert not written.exists()  # dropped: it will be synced again from scratch
        Entries(world.carol.circles, cache=file_cache(world, cache_dir)).sync(world.circle_id)
    moved = uuid.uuid4()
    shutil.copy(written, cache_dir / f"{moved}.warnings")
    assert file_cache(world, cache_dir).load(moved) is None


def test_a_damaged_file_is_synced_again_from_the_start(world: World, cache_dir: Path) -> None:
    Entries(world.bob.circles).post(world.circle_id, subject="Kept", text="x", categories=["other"])
    Entries(world.carol.circles, cache=file_cache(world, cache_dir)).sync(world.circle_id)
    written = cache_dir / f"{world.circle_id}.warnings"
    damaged = bytearray(written.read_bytes())
    damaged[-1] ^= 1
    written.write_bytes(bytes(damaged))
    reader = Entries(world.carol.circles, cache=file_cache(world, cache_dir))
    assert [m.matched_name for m in reader.check(world.circle_id, "Kept").matches] == ["Kept"]


def test_the_key_is_its_own_derivation_of_the_identity_secret(world: World) -> None:
    identity = world.carol.account.identity
    key = cache_key(identity)
    assert len(key) == 32 and key not in bytes(identity)
    assert key != cache_key(world.bob.account.identity)
