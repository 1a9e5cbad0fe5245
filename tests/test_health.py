from starlette.testclient import TestClient


def test_healthz_answers_when_the_database_answers(http: TestClient) -> None:
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
