"""A malicious server against sealed warnings (docs/protocol.md §36, threat model "Sealed
warnings"): each attack is named by the client's own error, and nothing opens early.

  a settings record with another VOPRF key (key partition) ......... bad_signature
  an evaluation under another key (key partition) .................. bad_proof
  a match with one member's filing shown twice (opened early) ...... not_enough_filers
  a match of two filings when k is three (opened early) ............ not_enough_filers
  a match grouping filings about different people (fake match) ..... wrong_epoch
  a match with a filing the server made itself (invented) .......... bad_signature
  a match with an outsider's real filing (not a member) ............ untrusted_signer
  a match under a k the circle never had ........................... wrong_epoch
  a match under a tag none of its filings carries .................. wrong_epoch

And where a member spoils a match with a wrong point (Feldman commitments, §36.7), the
server can only withhold honest filings (the match waits) or put the spoiled one first: it
cannot make the spoiled share count, and k honest shares open the match.
"""

import copy
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from app.client.moderation import Moderation
from app.client.sealed import Sealed
from app.crypto import b64decode, b64encode
from app.crypto.identity import IdentityKeys
from app.crypto.moderation import ModerationKey
from app.crypto.sealed import NamePolynomial, SealedSettings
from app.crypto.sealed_filings import seal_filing
from app.crypto.voprf import OprfElement, OprfKey, VoprfServer
from tests.conftest import Person, World
from tests.malicious.conftest import MaliciousServer, on
from tests.sealed.conftest import seal_spoiled

MATCHES = r"/v1/circles/[^/]+/sealed/matches"


def sealed_of(world: World, name: str) -> Sealed:
    return Sealed(Moderation(getattr(world, name).circles))


def seal(world: World, name: str, subject: str) -> dict[str, Any]:
    return sealed_of(world, name).seal(
        world.circle_id, subject=subject, text=f"{name} saw it", categories=["harassment"]
    )


def matched(world: World) -> list[dict[str, Any]]:
    """Bob and carol name Jan Novák: one real match."""
    sealed_of(world, "alice").configure(world.circle_id)
    seal(world, "bob", "Jan Novák")
    seal(world, "carol", "Jan Novák")
    rows: list[dict[str, Any]] = world.alice.client.request(
        "GET", f"/v1/circles/{world.circle_id}/sealed/matches"
    )
    assert len(rows) == 2  # the same words and the same letters: both exact forms match
    return rows[:1]


def test_a_settings_record_with_another_voprf_key_is_refused(
    world: World, server: MaliciousServer
) -> None:
    sealed_of(world, "alice").configure(world.circle_id)
    other = b64encode(bytes(OprfKey.generate().public_key))

    def swap(body: Any, _: httpx.Request) -> None:
        record = SealedSettings.parse(body["records"][-1]["record"].encode())
        forged = SealedSettings(**{**record.__dict__, "oprf_public_key": b64decode(other)})
        body["records"][-1]["record"] = forged.to_bytes().decode()
        body["oprf_public_key"] = other

    with server.attack(on("GET", r"/v1/circles/[^/]+/sealed/settings", swap), "bad_signature"):
        seal(world, "bob", "Jan Novák")
    assert ("POST", f"/v1/circles/{world.circle_id}/sealed/evaluate") not in server.sent


def test_an_evaluation_under_another_key_is_refused(world: World, server: MaliciousServer) -> None:
    sealed_of(world, "alice").configure(world.circle_id)
    partition = VoprfServer(OprfKey.generate())

    def evaluate(body: Any, request: httpx.Request) -> Any:
        sent = httpx.Response(200, content=request.content).json()["blinded"]
        blinded = [OprfElement(b64decode(e)) for e in sent]
        answer = partition.blind_evaluate(blinded)
        return {
            "evaluated": [b64encode(bytes(e)) for e in answer.elements],
            "proof": b64encode(bytes(answer.proof)),
        }

    with server.attack(on("POST", r"/v1/circles/[^/]+/sealed/evaluate", evaluate), "bad_proof"):
        seal(world, "bob", "Jan Novák")
    assert ("POST", f"/v1/circles/{world.circle_id}/sealed/filings") not in server.sent


def test_one_members_filing_shown_twice_does_not_open(
    world: World, server: MaliciousServer
) -> None:
    rows = matched(world)

    def twice(body: Any, _: httpx.Request) -> Any:
        bob = next(f for f in rows[0]["filings"] if f["filer"] == "bob")
        return [{**rows[0], "filings": [bob, copy.deepcopy(bob)]}]

    with server.attack(on("GET", MATCHES, twice), "not_enough_filers"):
        sealed_of(world, "alice").matches(world.circle_id)


def test_two_filings_do_not_open_when_k_is_three(world: World, server: MaliciousServer) -> None:
    rows = matched(world)
    sealed_of(world, "alice").configure(world.circle_id, k=3)

    def early(body: Any, _: httpx.Request) -> Any:
        return [{**rows[0], "k": 3}]

    with server.attack(on("GET", MATCHES, early), "wrong_epoch"):
        sealed_of(world, "alice").matches(world.circle_id)


def test_filings_about_different_people_do_not_make_a_match(
    world: World, server: MaliciousServer
) -> None:
    rows = matched(world)
    seal(world, "carol", "Petra Schmidt")
    petra = world.carol.client.request("GET", f"/v1/circles/{world.circle_id}/sealed/filings")[-1]

    def mixed(body: Any, _: httpx.Request) -> Any:
        bob = next(f for f in rows[0]["filings"] if f["filer"] == "bob")
        forged = {**bob, "filer": "carol", "filing_id": petra["filing_id"]}
        forged.update(record=petra["record"], signature=petra["signature"])
        return [{**rows[0], "filings": [bob, forged]}]

    with server.attack(on("GET", MATCHES, mixed), "wrong_epoch"):
        sealed_of(world, "alice").matches(world.circle_id)


def test_a_filing_the_server_made_is_refused(world: World, server: MaliciousServer) -> None:
    rows = matched(world)
    impostor = IdentityKeys.generate()
    key = ModerationKey.generate()
    filing, signature = seal_filing(
        {"subject": "Jan Novák", "text": "invented"},
        circle_id=world.circle_id,
        filing_id=uuid.uuid4(),
        filer="dave",
        identity=impostor,
        polynomials=[NamePolynomial.derive(bytes(32), 2)],
        moderation_public=key.public_key,
        generation=0,
    )

    def invented(body: Any, _: httpx.Request) -> Any:
        bob = next(f for f in rows[0]["filings"] if f["filer"] == "bob")
        fake = {
            **bob,
            "filer": "carol",
            "filing_id": str(filing.filing_id),
            "record": filing.to_bytes().decode().replace('"dave"', '"carol"'),
            "signature": b64encode(signature),
        }
        return [{**rows[0], "filings": [bob, fake]}]

    with server.attack(on("GET", MATCHES, invented), "bad_signature"):
        sealed_of(world, "alice").matches(world.circle_id)


def test_an_outsiders_filing_is_refused(world: World, server: MaliciousServer) -> None:
    rows = matched(world)
    frank = world.frank.account.identity
    key = ModerationKey.generate()
    filing, signature = seal_filing(
        {"subject": "Jan Novák", "text": "not a member"},
        circle_id=world.circle_id,
        filing_id=uuid.uuid4(),
        filer="frank",
        identity=frank,
        polynomials=[NamePolynomial.derive(bytes(32), 2)],
        moderation_public=key.public_key,
        generation=0,
    )

    def outsider(body: Any, _: httpx.Request) -> Any:
        bob = next(f for f in rows[0]["filings"] if f["filer"] == "bob")
        fake = {
            **bob,
            "filer": "frank",
            "filing_id": str(filing.filing_id),
            "record": filing.to_bytes().decode(),
            "signature": b64encode(signature),
        }
        return [{**rows[0], "filings": [bob, fake]}]

    with server.attack(on("GET", MATCHES, outsider), "untrusted_signer"):
        sealed_of(world, "alice").matches(world.circle_id)


def test_a_match_under_a_k_the_circle_never_had_is_refused(
    world: World, server: MaliciousServer
) -> None:
    rows = matched(world)
    with server.attack(on("GET", MATCHES, lambda b, _: [{**rows[0], "k": 5}]), "wrong_epoch"):
        sealed_of(world, "alice").matches(world.circle_id)


def test_a_match_under_a_tag_no_filing_carries_is_refused(
    world: World, server: MaliciousServer
) -> None:
    rows = matched(world)
    other = b64encode(bytes(32))
    with server.attack(on("GET", MATCHES, lambda b, _: [{**rows[0], "tag": other}]), "wrong_epoch"):
        sealed_of(world, "alice").matches(world.circle_id)


def test_a_spoiled_share_shown_first_does_not_block_k_honest_ones(
    world: World, server: MaliciousServer, person: Callable[[str], Person]
) -> None:
    cid = world.circle_id
    sealed_of(world, "alice").configure(cid)
    gina = person("gina")
    invite, _ = world.alice.circles.create_invite(cid, role="member")
    gina.circles.join(str(invite))
    world.alice.circles.confirm(cid, "gina", fingerprint=gina.fingerprint)
    seal_spoiled(gina, cid, "Jan Novák")
    seal(world, "bob", "Jan Novák")
    seal(world, "carol", "Jan Novák")

    def spoiled_first(body: Any, _: httpx.Request) -> Any:
        return [
            {**row, "filings": sorted(row["filings"], key=lambda f: f["filer"] != "gina")}
            for row in body
        ]

    def withhold_carol(body: Any, _: httpx.Request) -> Any:
        return [
            {**row, "filings": [f for f in row["filings"] if f["filer"] != "carol"]} for row in body
        ]

    for rule, opened in ((spoiled_first, True), (withhold_carol, False)):
        server.rules.append(on("GET", MATCHES, rule))
        try:
            [match] = sealed_of(world, "alice").matches(cid)
        finally:
            server.rules.clear()
        assert match["opened"] is opened
        assert match["filers"] == (["bob", "carol"] if opened else [])
        assert [(e["filer"], e["reason"]) for e in match["excluded"]] == [("gina", "bad_share")]


def test_a_cold_seal_reuses_what_this_device_verified_until_k_changes(
    world: World, server: MaliciousServer
) -> None:
    """A cold CLI (a new SDK object each run) skips the settings and moderation-key checks
    its device made at the same key record; when k changed, the server refuses the filing
    (409) and the SDK checks afresh, so the pinned copy never files under a stale k."""
    cid = world.circle_id
    sealed_of(world, "alice").configure(cid)
    seal(world, "bob", "Jan Novák")
    server.sent.clear()
    assert seal(world, "bob", "Petra Schmidt")["k"] == 2
    paths = [path for _, path in server.sent]
    assert f"/v1/circles/{cid}/sealed/settings" not in paths
    assert f"/v1/circles/{cid}/moderation/keys" not in paths
    sealed_of(world, "alice").configure(cid, k=3)
    server.sent.clear()
    assert seal(world, "bob", "Max Weber")["k"] == 3
    assert server.sent.count(("POST", f"/v1/circles/{cid}/sealed/filings")) == 2
