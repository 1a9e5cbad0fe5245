"""A removed member who kept the old epoch keys colludes with the server (issue 13, item 2).

With the former name index, every check sent a name's token under every epoch at once,
so the server learned which tokens belonged together: the removed member computed the
old-epoch token of a guessed name, found the check that carried it, and with it the
new-epoch token, which named warnings posted after the removal. Names are now matched
in the clients and never sent. This test plays the pair with everything they have: the
whole database (every table), every request the honest members sent after the removal
(bodies, paths, queries) and every answer; it tries every keyed hash and derivation of
the names under every old key, and every plain form of them, against every stored or
sent byte string — and finds nothing. Nor does any old key open a new warning.
"""

import base64
import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from app.client.entries import Entries, _envelope
from app.client.name_rules import load_name_rules
from app.crypto import CryptoError, labels
from app.crypto.circles import CircleKey
from app.crypto.entries import ENTRY, EnvelopeContext, open_envelope
from app.crypto.kdf import subkey
from app.crypto.matching import name_forms
from app.crypto.names import exact_keys, normalise_name
from tests.accounts.test_at_rest import _all_stored_bytes
from tests.conftest import Person, World

AFTER_REMOVAL = ["Zofia Kowalczyk", "Jan Novák", "Ольга Смирнова"]
GUESSES = [*AFTER_REMOVAL, "Jan Nowak", "Novák", "Kowalczyk", "Olga Smirnova", "Petr Svoboda"]


def _record(person: Person, sent: list[bytes]) -> None:
    """Everything this honest member's client sends, and what the server answers."""
    original = person.client.request

    def request(method: str, path: str, **kw: Any) -> Any:
        answer = original(method, path, **kw)
        sent.append(json.dumps([method, path, kw.get("json"), kw.get("params")]).encode())
        sent.append(json.dumps(answer).encode())
        return answer

    person.client.request = request  # type: ignore[method-assign]


def _derivations(key: CircleKey, name: str) -> dict[str, bytes]:
    """Every way a name could have been hashed or keyed under an epoch key."""
    raw = bytes(key)
    forms = {"name": name, "normalised": normalise_name(name)}
    forms |= {f"exact {k}": k for k in exact_keys(name)}
    rules = load_name_rules()
    analysed = name_forms(name, rules)
    forms |= {f"sound {s}": s for s in (*analysed.sounds, analysed.joined_sound)}
    keys = {
        "epoch key": raw,
        "entry key": key.entry_key,
        "meta key": key.meta_key,
        "index key (retired)": subkey(raw, labels.RETIRED_PERSON_INDEX_KEY),
    }
    persons = {
        "no person": b"",
        "name token (retired)": labels.RETIRED_PERSON_NAME_TOKEN,
        "index (retired)": labels.RETIRED_PERSON_INDEX_KEY,
    }
    out: dict[str, bytes] = {}
    for form, text in forms.items():
        message = text.encode("utf-8")
        if len(message) >= 8:  # shorter strings turn up by chance inside base64
            out[f"{form} plain"] = message
        out[f"{form} sha256"] = hashlib.sha256(message).digest()
        out[f"{form} blake2b"] = hashlib.blake2b(message, digest_size=32).digest()
        for key_name, secret in keys.items():
            out[f"{form} hmac {key_name}"] = hashlib.sha256(secret + message).digest()
            for person_name, person in persons.items():
                out[f"{form} {key_name} {person_name}"] = hashlib.blake2b(
                    message, digest_size=32, key=secret, person=person
                ).digest()
    return out


def _encodings(needle: bytes) -> list[bytes]:
    return [
        needle,
        needle.hex().encode(),
        base64.b64encode(needle),
        base64.urlsafe_b64encode(needle).rstrip(b"="),
    ]


def test_a_removed_member_and_the_server_learn_nothing_of_names_posted_after_removal(
    world: World, engine: Engine, person: Callable[[str], Person]
) -> None:
    bob, carol, alice = world.bob, world.carol, world.alice
    Entries(bob.circles).post(
        world.circle_id, subject="Before Removal", text="old", categories=["other"]
    )
    mallory = person("mallory")
    invite, _ = alice.circles.create_invite(world.circle_id, role="member")
    mallory.circles.join(str(invite))
    alice.circles.confirm(world.circle_id, "mallory", fingerprint=mallory.fingerprint)
    kept = dict(mallory.circles.sync(world.circle_id).keys)  # every key mallory ever held
    alice.circles.remove(world.circle_id, "mallory")

    sent: list[bytes] = []
    for honest in (alice, bob, carol):
        _record(honest, sent)
    posted = [
        Entries(bob.circles).post(
            world.circle_id, subject=AFTER_REMOVAL[0], text="t", categories=["harassment"]
        ),
        Entries(carol.circles).post(
            world.circle_id,
            subject=AFTER_REMOVAL[1],
            aliases=["@jnovak"],
            text="t",
            categories=["stalking"],
            anonymous=True,
        ),
        Entries(alice.circles).post(
            world.circle_id, subject=AFTER_REMOVAL[2], text="t", categories=["other"]
        ),
    ]
    for checker in (alice, bob, carol):  # checks, reads and corroborations after removal
        reader = Entries(checker.circles)
        for guess in GUESSES:
            reader.check(world.circle_id, guess)
        list(reader.pages(world.circle_id))
    Entries(alice.circles).corroborate(world.circle_id, posted[0]["entry_id"], text="me too")

    haystack = _all_stored_bytes(engine) + b"\n".join(sent)
    # The search sees what is there: a new warning's ciphertext, as sent and as stored.
    row = carol.client.request(
        "GET", f"/v1/circles/{world.circle_id}/entries/{posted[1]['entry_id']}"
    )["entry"]
    assert row["ciphertext"].encode() in haystack
    assert any(e in haystack for e in _encodings(_envelope(row).ciphertext))

    tried = 0
    for epoch, key in kept.items():
        for guess in GUESSES:
            for what, needle in _derivations(key, guess).items():
                for encoded in _encodings(needle):
                    tried += 1
                    assert encoded not in haystack, (epoch, guess, what)
    assert tried > 1000

    # Nor does any old key open what was posted after the removal.
    for entry in posted:
        detail = carol.client.request(
            "GET", f"/v1/circles/{world.circle_id}/entries/{entry['entry_id']}"
        )["entry"]
        assert detail["epoch"] not in kept
        for epoch in kept:
            context = EnvelopeContext(ENTRY, world.circle_id, epoch, uuid.UUID(entry["entry_id"]))
            with pytest.raises(CryptoError):
                open_envelope(_envelope(detail), keys=kept, context=context)
