"""Sealed warnings end to end (docs/protocol.md §36): nothing opens until k different
members name the same person under the exact name rules; then only the admins read it."""

import pytest

from app.client.errors import ApiError, ProtocolError
from tests.sealed.conftest import Ring, seal_spoiled, sealed_of


def test_two_members_naming_one_person_differently_open_a_match_to_the_admins(ring: Ring) -> None:
    bob, carol = ring.world.bob, ring.world.carol
    first = ring.seal(bob, "Jan Novák", text="he cornered me at the wrap party")
    assert first["status"] == "open"
    assert ring.matches() == []
    second = ring.seal(carol, "NOVAK, Jan", text="same at the Leipzig shoot")
    assert second["status"] == "matched"
    [match] = ring.matches()
    assert match["filers"] == ["bob", "carol"]
    assert match["k"] == 2 and match["k_current"]
    texts = {w["filer"]: w["text"] for w in match["warnings"]}
    assert texts == {
        "bob": "he cornered me at the wrap party",
        "carol": "same at the Leipzig shoot",
    }
    # Each filer is told; their warning stays theirs to publish.
    assert [f["status"] for f in ring.own(bob)] == ["matched"]
    assert ring.own(bob)[0]["matched"] is True


def test_a_name_nobody_else_names_stays_sealed(ring: Ring) -> None:
    ring.seal(ring.world.bob, "Jan Novák")
    ring.seal(ring.world.carol, "Jana Nováková")
    assert ring.matches() == []
    assert {f["status"] for f in ring.own(ring.world.bob)} == {"open"}


def test_an_alias_matches_exactly_and_a_partial_name_does_not(ring: Ring) -> None:
    bob, carol = ring.world.bob, ring.world.carol
    ring.seal(bob, "Jan Novák", aliases=["@jnovak_films"])
    ring.seal(carol, "Novák")  # a surname alone: partial, never enough for a sealed warning
    assert ring.matches() == []
    ring.seal(carol, "jnovak films")
    [match] = ring.matches()
    assert match["filers"] == ["bob", "carol"]


def test_three_members_are_needed_when_k_is_three(ring: Ring) -> None:
    sealed_of(ring.world.alice).configure(ring.cid, k=3)
    gina = ring.add_member("gina")
    ring.seal(ring.world.bob, "Jan Novák")
    ring.seal(ring.world.carol, "Novák Jan")
    assert ring.matches() == []
    ring.seal(gina, "jan  NOVAK")
    [match] = ring.matches()
    assert match["filers"] == ["bob", "carol", "gina"] and match["k"] == 3


def test_the_same_member_filing_twice_counts_once(ring: Ring) -> None:
    ring.seal(ring.world.bob, "Jan Novák")
    again = ring.seal(ring.world.bob, "Novák, Jan")
    assert again["status"] == "open"
    assert ring.matches() == []


def test_a_withdrawn_filing_no_longer_counts(ring: Ring) -> None:
    bob = ring.world.bob
    filed = ring.seal(bob, "Jan Novák")
    assert sealed_of(bob).withdraw(ring.cid, filed["filing_id"])["status"] == "withdrawn"
    ring.seal(ring.world.carol, "Jan Novák")
    assert ring.matches() == []
    [own] = ring.own(bob)
    assert own["status"] == "withdrawn" and own["subject"] is None


def test_a_matched_filing_cannot_be_withdrawn(ring: Ring) -> None:
    filed = ring.seal(ring.world.bob, "Jan Novák")
    ring.seal(ring.world.carol, "Jan Novák")
    with pytest.raises(ApiError) as caught:
        sealed_of(ring.world.bob).withdraw(ring.cid, filed["filing_id"])
    assert (caught.value.status, caught.value.code) == (409, "filing_closed")


def test_a_removed_members_open_filing_stops_counting(ring: Ring) -> None:
    gina = ring.add_member("gina")
    ring.seal(gina, "Jan Novák")
    ring.world.alice.circles.remove(ring.cid, "gina")
    ring.seal(ring.world.bob, "Jan Novák")
    assert ring.matches() == []


def test_a_filing_made_under_an_earlier_k_does_not_count(ring: Ring) -> None:
    ring.seal(ring.world.bob, "Jan Novák")  # k = 2
    sealed_of(ring.world.alice).configure(ring.cid, k=3)
    [own] = ring.own(ring.world.bob)
    assert own["k"] == 2 and own["counts"] is False
    gina = ring.add_member("gina")
    ring.seal(ring.world.carol, "Jan Novák")
    ring.seal(gina, "Jan Novák")
    assert ring.matches() == []  # two under k = 3, one under k = 2: nothing opens


def test_publish_named_and_anonymous(ring: Ring) -> None:
    bob, carol = ring.world.bob, ring.world.carol
    named = ring.seal(bob, "Jan Novák", text="named account")
    anonymous = ring.seal(carol, "Jan Novák", text="anonymous account")
    sealed_of(bob).publish(ring.cid, named["filing_id"])
    sealed_of(carol).publish(ring.cid, anonymous["filing_id"], anonymous=True)
    check = sealed_of(ring.world.alice).entries.check(ring.cid, "Jan Novák")
    authors = {m.warning["text"]: m.warning["author"] for m in check.matches}
    assert authors == {"named account": "bob", "anonymous account": None}


def test_evaluations_are_limited_per_member_per_day(ring: Ring) -> None:
    sealed_of(ring.world.alice).configure(ring.cid, evaluations_per_day=2)
    bob = ring.world.bob
    ring.seal(bob, "Jan Novák")
    ring.seal(bob, "Petra Schmidt")
    with pytest.raises(ApiError) as caught:
        ring.seal(bob, "Max Weber")
    assert (caught.value.status, caught.value.code) == (429, "evaluation_limit")
    ring.seal(ring.world.carol, "Max Weber")  # another member's allowance is their own
    assert len(ring.own(bob)) == 2


def test_only_admins_change_k_and_each_change_is_an_audit_leaf(ring: Ring) -> None:
    with pytest.raises(ProtocolError) as refused:
        sealed_of(ring.world.bob).configure(ring.cid, k=4)
    assert refused.value.code == "not_a_moderator"  # and the server: tests/test_access_all
    sealed_of(ring.world.carol).configure(ring.cid, k=4)
    records = ring.world.bob.client.request("GET", f"/v1/circles/{ring.cid}/audit/records")
    changes = [r for r in records if '"sealed_settings_changed"' in r["body"]]
    assert [('"k":4' in c["body"]) for c in changes] == [False, True]


def test_an_evaluation_names_nobody_in_the_log_the_members_read(ring: Ring) -> None:
    ring.seal(ring.world.bob, "Jan Novák")
    records = ring.world.carol.client.request("GET", f"/v1/circles/{ring.cid}/audit/records")
    [leaf] = [r for r in records if '"sealed_evaluation"' in r["body"]]
    assert '"actor":""' in leaf["body"] and "bob" not in leaf["body"]


def test_a_member_who_seals_a_wrong_point_cannot_spoil_a_match(ring: Ring) -> None:
    """Feldman commitments (§36.7): gina's share fails the commitments she sealed with it, so
    it is left out and reported; bob's and carol's open the match without it."""
    gina = ring.add_member("gina")
    assert seal_spoiled(gina, ring.cid, "Jan Novák")["status"] == "open"
    ring.seal(ring.world.bob, "Jan Novák")  # the server counts two filers: a match
    [waiting] = ring.matches()
    assert waiting["opened"] is False and waiting["warnings"] == []
    assert [(e["filer"], e["reason"]) for e in waiting["excluded"]] == [("gina", "bad_share")]
    ring.seal(ring.world.carol, "Jan Novák")  # joins the match: two honest shares now
    [match] = ring.matches()
    assert match["opened"] is True and match["filers"] == ["bob", "carol"]
    assert [(e["filer"], e["reason"]) for e in match["excluded"]] == [("gina", "bad_share")]
    assert {w["filer"] for w in match["warnings"]} == {"bob", "carol"}
