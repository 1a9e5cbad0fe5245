"""The trusted-proxy setting, and nosniff on every JSON answer.

Forged X-Forwarded-For headers, and a named proxy passing on real addresses, are played in
tests/malicious/test_outsider.py.
"""

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import text
from starlette.testclient import TestClient

from app.settings import Settings


@pytest.mark.parametrize("value", ["*", "proxy.example.org", "10.0.0.0/33", "127.0.0.1, nope"])
def test_trusted_proxies_must_be_addresses_or_networks(value: str) -> None:
    with pytest.raises(ValidationError):
        Settings(trusted_proxies=value)


def test_trusted_proxies_are_read_as_networks() -> None:
    settings = Settings(trusted_proxies=" 10.0.0.5 ,2001:db8::/64,")
    assert settings.trusted_proxy_networks == ["10.0.0.5/32", "2001:db8::/64"]
    assert Settings().trusted_proxy_networks == []


def _nosniff(response: httpx.Response) -> bool:
    return response.headers.get_list("x-content-type-options") == ["nosniff"]


def test_every_json_answer_says_nosniff(http: TestClient, settings: Settings) -> None:
    big = b"{" * 300_000
    answers = [
        http.get("/healthz"),  # 200
        http.get("/v1/auth/params", params={"username": "alice"}),  # 200
        http.get("/v1/me"),  # 401, a domain error
        http.post("/v1/auth/login", json={"username": "alice"}),  # 422, validation
        http.post("/v1/auth/login", content=b"x", headers={"content-type": "text/plain"}),  # 415
        http.post("/v1/auth/login", content=big, headers={"content-type": "application/json"}),
        http.get("/v1/no-such-route"),  # 404
    ]
    assert [r.status_code for r in answers] == [200, 200, 401, 422, 415, 413, 404]
    assert {r.headers["content-type"] for r in answers} == {"application/json"}
    assert all(_nosniff(r) for r in answers), [(r.status_code, r.headers) for r in answers]
    # A 500 is answered outside the app's middleware and sets the header itself.
    from app.main import create_app

    broken = create_app(settings)
    with broken.state.engine.begin() as conn:
        conn.execute(text("DROP TABLE auth_sessions"))
    try:
        with TestClient(broken, raise_server_exceptions=False) as client:
            failed = client.get("/v1/me", headers={"Authorization": "Bearer x"})
    finally:
        broken.state.engine.dispose()
    assert failed.status_code == 500 and _nosniff(failed)
