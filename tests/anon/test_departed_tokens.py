"""A member who leaves (or deletes their account) keeps the tokens they took for the
current epoch, and the key stays the same until an admin's client rotates
(``rotation_due``). A token stands in for "a current member of this circle", so a spend
must not be accepted while someone who is no longer a member holds tokens of this epoch:
otherwise a leaver keeps posting anonymous warnings as if they still belonged."""

from starlette.testclient import TestClient

from tests.anon.test_anonymous_posting import anonymous_entry, refused, token
from tests.conftest import World


def test_a_leaver_cannot_spend_tokens_taken_before_leaving(world: World, http: TestClient) -> None:
    world.open_anonymous()
    kept = token(world, world.bob)
    path, body = anonymous_entry(world, world.bob, kept)
    world.bob.circles.leave(world.circle_id)
    refused(http.post(path, json=body), 409, "rotation_due")
    # Once an admin rotates the leaver out, members post anonymously again.
    world.alice.circles.rotate(world.circle_id)
    world.alice.circles.sync(world.circle_id)
    again, fresh = anonymous_entry(world, world.carol, token(world, world.carol))
    assert http.post(again, json=fresh).status_code == 201
