"""The member list is written without pydantic (10,000-member circles); it must be exactly
what the declared ``list[MemberOut]`` would write, departures and every status included."""

from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from app.circles.schemas import MemberOut
from tests.conftest import World

MEMBERS = TypeAdapter(list[MemberOut])


def test_member_list_bytes_are_the_declared_model(world: World, http: TestClient) -> None:
    world.bob.circles.leave(world.circle_id)  # a signed departure statement
    response = http.get(
        f"/v1/circles/{world.circle_id}/members",
        headers={"authorization": f"Bearer {world.alice.client.token}"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    members = MEMBERS.validate_json(response.content)
    assert response.content == MEMBERS.dump_json(members)
    by_name = {m.username: m for m in members}
    assert by_name["bob"].departure is not None
    assert by_name["bob"].departure.statement
    assert {m.status for m in members} >= {"active", "pending", "removed"}
    assert by_name["alice"].fingerprint == world.alice.fingerprint
