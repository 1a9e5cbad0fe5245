"""A server that alters stored entries: the client names what is wrong."""

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from app.circles.models import Circle
from app.client.entries import Entries
from app.client.errors import ApiError, ProtocolError
from app.entries.models import Entry
from tests.conftest import World


def _post(world: World, **extra: object) -> uuid.UUID:
    if extra.get("anonymous"):
        world.open_anonymous()
    result = Entries(world.bob.circles).post(
        world.circle_id,
        subject="Jan Novák",
        text="text",
        categories=["harassment"],
        **extra,  # type: ignore[arg-type]
    )
    return uuid.UUID(result["entry_id"])


def _tamper(engine: Engine, entry_id: uuid.UUID, **values: object) -> None:
    with Session(engine) as session:
        session.execute(update(Entry).where(Entry.id == entry_id).values(**values))
        session.commit()


def _read_error(world: World) -> str:
    with pytest.raises(ProtocolError) as caught:
        list(Entries(world.carol.circles).pages(world.circle_id))
    return caught.value.code


def _flip(raw: bytes, at: int = 40) -> bytes:
    return raw[:at] + bytes([raw[at] ^ 1]) + raw[at + 1 :]


@pytest.mark.parametrize(
    ("column", "change", "code"),
    [
        ("ciphertext", _flip, "bad_signature"),
        ("nonce", lambda raw: _flip(raw, 3), "bad_signature"),
        ("signature", _flip, "bad_signature"),
        ("commitment", lambda raw: _flip(raw, 5), "bad_signature"),
        ("author_key", lambda raw: _flip(raw, 5), "bad_signature"),
    ],
)
def test_tampered_envelope_is_refused(
    world: World, engine: Engine, column: str, change: Callable[[bytes], bytes], code: str
) -> None:
    entry_id = _post(world)
    with Session(engine) as session:
        entry = session.get(Entry, entry_id)
        assert entry is not None
        original = getattr(entry, column)
    _tamper(engine, entry_id, **{column: change(original)})
    assert _read_error(world) == code


def test_entry_moved_to_another_epoch_is_wrong_epoch(world: World, engine: Engine) -> None:
    entry_id = _post(world)
    _tamper(engine, entry_id, epoch=0)
    assert _read_error(world) == "wrong_epoch"


def test_entry_moved_to_another_circle_is_refused(world: World, engine: Engine) -> None:
    entry_id = _post(world)
    other = world.bob.circles.create("Another circle")
    with Session(engine) as session:
        target = session.get(Circle, other.circle_id)
        assert target is not None
        session.execute(
            update(Entry)
            .where(Entry.id == entry_id)
            .values(circle_id=other.circle_id, seq=1, epoch=0)
        )
        target.entry_seq = 1
        session.commit()
    with pytest.raises(ProtocolError) as caught:
        list(Entries(world.bob.circles).pages(other.circle_id))
    assert caught.value.code == "bad_signature"


def test_named_entry_relabelled_as_someone_else_is_refused(world: World, engine: Engine) -> None:
    from sqlalchemy import select

    from app.accounts.models import User

    entry_id = _post(world)
    with Session(engine) as session:
        carol = session.scalars(select(User.id).where(User.username == "carol")).one()
    _tamper(engine, entry_id, author_id=carol)
    assert _read_error(world) == "author_mismatch"


def test_anonymous_entry_shown_as_named_is_refused(world: World, engine: Engine) -> None:
    entry_id = _post(world, anonymous=True)
    _tamper(engine, entry_id, anonymous=False)
    # The row has no account since §38, so it shows as named with no author: author_leak.
    assert _read_error(world) in ("author_mismatch", "author_leak")


class TestServerRefuses:
    """The server's own checks (defence in depth), each with its code; nothing is stored."""

    def _body(self, world: World) -> dict[str, object]:
        captured: dict[str, object] = {}
        e = Entries(world.bob.circles)
        original = e.client.request

        def spy(method: str, path: str, **kw: object) -> object:
            if method == "POST" and path.endswith("/entries"):
                captured.update(kw["json"])  # type: ignore[arg-type]
                raise ApiError(599, "captured", "")
            return original(method, path, **kw)  # type: ignore[arg-type]

        e.client.request = spy  # type: ignore[method-assign]
        with pytest.raises(ApiError):
            e.post(world.circle_id, subject="S T", text="x", categories=["other"])
        e.client.request = original  # type: ignore[method-assign]
        return captured

    def _post(self, world: World, body: dict[str, object]) -> tuple[int, str]:
        with pytest.raises(ApiError) as caught:
            world.bob.client.request("POST", f"/v1/circles/{world.circle_id}/entries", json=body)
        return caught.value.status, caught.value.code

    def test_bad_signature(self, world: World) -> None:
        from app.crypto import b64decode, b64encode

        body = self._body(world)
        body["signature"] = b64encode(_flip(b64decode(str(body["signature"])), 2))
        assert self._post(world, body) == (422, "bad_signature")
        assert list(Entries(world.carol.circles).pages(world.circle_id)) == []

    def test_stale_epoch(self, world: World) -> None:
        body = self._body(world) | {"epoch": 0}
        assert self._post(world, body) == (409, "stale_epoch")

    def test_named_post_signed_by_another_key(self, world: World) -> None:
        body = self._body(world) | {"anonymous": False}
        body["author_key"] = world.carol.client.request("GET", "/v1/me")["identity"][
            "ed25519_public"
        ]
        assert self._post(world, body) == (422, "author_mismatch")

    def test_unpadded_ciphertext(self, world: World) -> None:
        from app.crypto import b64encode

        body = self._body(world) | {"ciphertext": b64encode(b"\x00" * 600)}
        assert self._post(world, body) == (422, "bad_ciphertext_size")

    def test_reusing_an_entry_id_with_other_content(self, world: World) -> None:
        from app.crypto import b64decode, b64encode

        body = self._body(world)
        world.bob.client.request("POST", f"/v1/circles/{world.circle_id}/entries", json=body)
        body["ciphertext"] = b64encode(_flip(b64decode(str(body["ciphertext"])), 9))
        assert self._post(world, body) == (409, "entry_exists")
