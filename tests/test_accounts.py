"""Accounts through the API: sign-up, the token lifecycle, throttling, profile and cache."""

from __future__ import annotations

import asyncio

import jwt
import pytest

from app.settings import Settings
from tests.conftest import (
    PASSWORD,
    REDIS_URL,
    SECRET,
    Server,
    from_address,
    make_customer,
    make_staff,
    open_app,
)
from tests.support import Clock, GraphQLClient

ME = "{ me { id email firstName lastName isStaff } }"
SIGN_IN = """
mutation($email: String!, $password: String!) {
  tokenCreate(email: $email, password: $password) {
    token { accessToken refreshToken accessTokenExpiresAt }
    user { email isStaff }
    userErrors { field message code }
  }
}
"""


def _register(email: str, password: str = PASSWORD) -> dict[str, object]:
    return {"input": {"email": email, "password": password, "firstName": " Ada ", "lastName": "L"}}


async def _sign_in(api: GraphQLClient, email: str, password: str = PASSWORD) -> dict[str, object]:
    return (await api.query(SIGN_IN, {"email": email, "password": password})).data["tokenCreate"]  # type: ignore[no-any-return]


async def _refresh(api: GraphQLClient, token: str) -> dict[str, object]:
    return (await api.op("TokenRefresh", {"refreshToken": token})).data["tokenRefresh"]  # type: ignore[no-any-return]


async def test_register_normalises_the_email_and_signs_in(api: GraphQLClient) -> None:
    result = await api.op("AccountRegister", _register("  Ada@Example.COM "))
    payload = result.data["accountRegister"]
    assert payload["userErrors"] == []
    assert payload["user"]["email"] == "ada@example.com"
    assert payload["token"]["refreshToken"]
    me = await api.query(ME, token=payload["token"]["accessToken"])
    assert me.data["me"] == {
        "id": payload["user"]["id"],
        "email": "ada@example.com",
        "firstName": "Ada",
        "lastName": "L",
        "isStaff": False,
    }
    signed_in = await _sign_in(api, "ADA@example.com")
    assert signed_in["userErrors"] == []
    assert signed_in["user"] == {"email": "ada@example.com", "isStaff": False}


async def test_register_refuses_taken_emails_and_weak_passwords(api: GraphQLClient) -> None:
    await make_customer_via(api, "taken@example.com")
    taken = (await api.op("AccountRegister", _register("Taken@Example.com"))).data
    assert taken["accountRegister"]["userErrors"] == [
        {
            "field": ["input", "email"],
            "message": "an account with taken@example.com already exists",
            "code": "EMAIL_TAKEN",
        }
    ]
    assert taken["accountRegister"]["token"] is None
    for weak in ("short1A", "alllowercaseletters", "12345678901234", "           "):
        result = (await api.op("AccountRegister", _register("new@example.com", weak))).data
        errors = result["accountRegister"]["userErrors"]
        assert [e["code"] for e in errors] == ["WEAK_PASSWORD"], weak
        assert errors[0]["field"] == ["password"]
    bad_email = (await api.op("AccountRegister", _register("not-an-email"))).data
    assert bad_email["accountRegister"]["userErrors"][0]["code"] == "INVALID"
    # Nothing of the refused sign-ups was written.
    refused = await _sign_in(api, "new@example.com", "short1A")
    assert refused["userErrors"][0]["code"] == "INVALID_CREDENTIALS"


async def make_customer_via(api: GraphQLClient, email: str) -> str:
    payload = (await api.op("AccountRegister", _register(email))).data["accountRegister"]
    assert payload["userErrors"] == []
    return str(payload["token"]["accessToken"])


async def test_concurrent_sign_ups_with_one_email_make_one_account(api: GraphQLClient) -> None:
    results = await asyncio.gather(
        *(api.op("AccountRegister", _register("race@example.com")) for _ in range(6))
    )
    codes = sorted(
        (r.data["accountRegister"]["userErrors"] or [{"code": "OK"}])[0]["code"] for r in results
    )
    assert codes == ["EMAIL_TAKEN"] * 5 + ["OK"]


async def test_wrong_email_and_wrong_password_look_the_same(api: GraphQLClient) -> None:
    await make_customer_via(api, "known@example.com")
    wrong_password = await _sign_in(api, "known@example.com", "not the password 1")
    unknown_email = await _sign_in(api, "nobody@example.com", "not the password 1")
    assert wrong_password == unknown_email
    assert wrong_password["userErrors"] == [
        {
            "field": None,
            "message": "the email or password is incorrect",
            "code": "INVALID_CREDENTIALS",
        }
    ]


async def test_access_tokens_expire_and_refresh_tokens_rotate(server: Server) -> None:
    api = server.client
    await make_customer_via(api, "life@example.com")
    first = await _sign_in(api, "life@example.com")
    access, refresh = first["token"]["accessToken"], first["token"]["refreshToken"]  # type: ignore[index]
    assert (await api.query(ME, token=access)).data["me"]["email"] == "life@example.com"

    server.clock.advance(minutes=15, seconds=1)
    expired = await api.query(ME, token=access)
    assert expired.status == 401
    assert expired.error_codes == ["UNAUTHENTICATED"]
    assert "expired" in expired.errors[0]["message"]

    rotated = await _refresh(api, refresh)
    assert rotated["userErrors"] == []
    new_access, new_refresh = rotated["token"]["accessToken"], rotated["token"]["refreshToken"]  # type: ignore[index]
    assert new_refresh != refresh
    assert (await api.query(ME, token=new_access)).data["me"]["email"] == "life@example.com"

    # The old refresh token was used: presenting it again means it was stolen,
    # and the whole family dies, the thief's and the owner's new token alike.
    reused = await _refresh(api, refresh)
    assert reused["userErrors"][0]["code"] == "UNAUTHENTICATED"
    assert reused["token"] is None
    after_reuse = await _refresh(api, new_refresh)
    assert after_reuse["userErrors"][0]["code"] == "UNAUTHENTICATED"


async def test_concurrent_refreshes_of_one_token_give_one_new_pair(server: Server) -> None:
    api = server.client
    await make_customer_via(api, "twice@example.com")
    refresh = (await _sign_in(api, "twice@example.com"))["token"]["refreshToken"]  # type: ignore[index]
    results = await asyncio.gather(*(_refresh(api, refresh) for _ in range(4)))
    assert sum(1 for r in results if r["token"] is not None) <= 1
    assert any(r["userErrors"] for r in results)


async def test_refresh_tokens_expire_and_revoke_logs_out(server: Server) -> None:
    api = server.client
    await make_customer_via(api, "out@example.com")
    refresh = (await _sign_in(api, "out@example.com"))["token"]["refreshToken"]  # type: ignore[index]
    revoked = await api.op("TokenRevoke", {"refreshToken": refresh})
    assert revoked.data["tokenRevoke"]["userErrors"] == []
    assert (await _refresh(api, refresh))["userErrors"][0]["code"] == "UNAUTHENTICATED"

    later = (await _sign_in(api, "out@example.com"))["token"]["refreshToken"]  # type: ignore[index]
    server.clock.advance(days=30, seconds=1)
    assert (await _refresh(api, later))["userErrors"][0]["code"] == "UNAUTHENTICATED"


async def test_tampered_and_foreign_tokens_are_401_not_500(server: Server) -> None:
    api = server.client
    token = await make_customer_via(api, "tamper@example.com")
    header, _payload, signature = token.split(".")
    claims = jwt.decode(
        token, SECRET, algorithms=["HS256"], audience="commerce-api", options={"verify_iat": False}
    )
    other_user = str(int(claims["sub"]) + 1)
    forged_payload = jwt.encode({**claims, "sub": other_user}, "x" * 40, algorithm="HS256").split(
        "."
    )[1]
    cases = {
        "tampered payload": f"{header}.{forged_payload}.{signature}",
        "other key": jwt.encode(claims, "another-secret-key-0123456789-abcdef", algorithm="HS256"),
        "no signature": jwt.encode(claims, None, algorithm="none"),
        "garbage": "not.a.token",
    }
    for name, bad in cases.items():
        result = await api.query(ME, token=bad)
        assert result.status == 401, name
        assert result.error_codes == ["UNAUTHENTICATED"], name
        assert result.headers["www-authenticate"].startswith("Bearer")
    basic = await api.query(ME, headers={"authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status == 401


async def _signed_in(api: GraphQLClient, email: str) -> tuple[str, str]:
    """A new session of `email` (as on another device): its access and refresh token."""
    token = (await _sign_in(api, email))["token"]
    return token["accessToken"], token["refreshToken"]  # type: ignore[index]


async def _assert_revoked(api: GraphQLClient, access: str) -> None:
    result = await api.query(ME, token=access)
    assert result.status == 401
    assert result.error_codes == ["UNAUTHENTICATED"]
    assert "revoked" in result.errors[0]["message"]


async def _assert_refreshes_and_goes_on(api: GraphQLClient, refresh: str, email: str) -> None:
    rotated = await _refresh(api, refresh)
    assert rotated["userErrors"] == []
    me = await api.query(ME, token=rotated["token"]["accessToken"])  # type: ignore[index]
    assert me.data["me"]["email"] == email


async def test_sign_out_ends_access_tokens_at_once(server: Server) -> None:
    api = server.client
    await make_customer_via(api, "leaving@example.com")
    phone_access, phone_refresh = await _signed_in(api, "leaving@example.com")
    laptop_access, laptop_refresh = await _signed_in(api, "leaving@example.com")
    assert (await api.query(ME, token=phone_access)).data["me"]["email"] == "leaving@example.com"
    assert (await api.query(ME, token=phone_access)).statements == 0  # cached

    revoked = await api.op("TokenRevoke", {"refreshToken": phone_refresh})
    assert revoked.data["tokenRevoke"]["userErrors"] == []
    await _assert_revoked(api, phone_access)
    # The laptop's access token ended too; its refresh token goes on.
    await _assert_revoked(api, laptop_access)
    await _assert_refreshes_and_goes_on(api, laptop_refresh, "leaving@example.com")
    assert (await _refresh(api, phone_refresh))["userErrors"][0]["code"] == "UNAUTHENTICATED"
    # Signing out again with the dead token does not sign the laptop out again.
    fresh_access, _fresh_refresh = await _signed_in(api, "leaving@example.com")
    await api.op("TokenRevoke", {"refreshToken": phone_refresh})
    assert (await api.query(ME, token=fresh_access)).status == 200
    # Anonymous requests read nothing to authenticate.
    anonymous = await api.query(ME)
    assert (anonymous.data, anonymous.statements) == ({"me": None}, 0)


async def test_a_reused_refresh_token_ends_access_tokens_at_once(server: Server) -> None:
    api = server.client
    await make_customer_via(api, "stolen@example.com")
    phone_access, phone_refresh = await _signed_in(api, "stolen@example.com")
    _laptop_access, laptop_refresh = await _signed_in(api, "stolen@example.com")
    rotated = await _refresh(api, phone_refresh)
    thief_access = rotated["token"]["accessToken"]  # type: ignore[index]
    assert (await api.query(ME, token=thief_access)).status == 200

    reused = await _refresh(api, phone_refresh)
    assert reused["userErrors"][0]["code"] == "UNAUTHENTICATED"
    await _assert_revoked(api, thief_access)
    await _assert_revoked(api, phone_access)
    await _assert_refreshes_and_goes_on(api, laptop_refresh, "stolen@example.com")
    assert (await _sign_in(api, "stolen@example.com"))["userErrors"] == []


async def test_access_tokens_from_before_versions_work_until_revoked(server: Server) -> None:
    api = server.client
    token = await make_customer_via(api, "older@example.com")
    claims = jwt.decode(
        token, SECRET, algorithms=["HS256"], audience="commerce-api", options={"verify_iat": False}
    )
    assert claims.pop("ver") == 0
    older = jwt.encode(claims, SECRET, algorithm="HS256")
    assert (await api.query(ME, token=older)).data["me"]["email"] == "older@example.com"
    _access, refresh = await _signed_in(api, "older@example.com")
    await api.op("TokenRevoke", {"refreshToken": refresh})
    await _assert_revoked(api, older)


async def test_failed_sign_ins_are_throttled_per_email(server: Server) -> None:
    await make_customer_via(server.client, "victim@example.com")
    async with (
        from_address(server, "203.0.113.1") as attacker,
        from_address(server, "203.0.113.2") as owner,
    ):
        for _ in range(5):
            wrong = await _sign_in(attacker, "victim@example.com", "guess-guess-1")
            assert wrong["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
        # Even the right password, from another address, waits for the window to pass.
        paused = await _sign_in(owner, "Victim@example.com")
        assert paused["token"] is None
        assert paused["userErrors"][0]["code"] == "TOO_MANY_REQUESTS"
        assert "15 minutes" in paused["userErrors"][0]["message"]
        server.clock.advance(minutes=10)
        assert (await _sign_in(owner, "victim@example.com"))["userErrors"][0]["code"] == (
            "TOO_MANY_REQUESTS"
        )
        server.clock.advance(minutes=5, seconds=1)
        assert (await _sign_in(owner, "victim@example.com"))["userErrors"] == []


async def test_failed_sign_ins_are_throttled_per_client_address(server: Server) -> None:
    await make_customer_via(server.client, "real@example.com")
    async with (
        from_address(server, "198.51.100.7") as sprayer,
        from_address(server, "198.51.100.8") as neighbour,
    ):
        for n in range(5):
            wrong = await _sign_in(sprayer, f"user{n}@example.com", "Spring2026!!")
            assert wrong["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
        blocked = await _sign_in(sprayer, "real@example.com")
        assert blocked["userErrors"][0]["code"] == "TOO_MANY_REQUESTS"
        assert (await _sign_in(neighbour, "real@example.com"))["userErrors"] == []


async def test_a_successful_sign_in_clears_the_email_count(server: Server) -> None:
    await make_customer_via(server.client, "typo@example.com")
    for address in ("192.0.2.1", "192.0.2.2"):
        async with from_address(server, address) as client:
            for _ in range(4):
                await _sign_in(client, "typo@example.com", "typo-typo-1")
            assert (await _sign_in(client, "typo@example.com"))["userErrors"] == []


async def test_profile_updates_are_never_served_stale(server: Server) -> None:
    api = server.client
    token = await make_customer_via(api, "cache@example.com")
    await api.query(ME, token=token)
    again = await api.query(ME, token=token)
    assert again.statements == 0, "user info comes from the cache"
    updated = await api.query(
        'mutation { accountUpdate(input: {firstName: "Grace"}) '
        "{ user { firstName lastName } userErrors { code } } }",
        token=token,
    )
    assert updated.data["accountUpdate"] == {
        "user": {"firstName": "Grace", "lastName": "L"},
        "userErrors": [],
    }
    assert (await api.query(ME, token=token)).data["me"]["firstName"] == "Grace"
    anonymous = await api.query(
        'mutation { accountUpdate(input: {firstName: "X"}) { userErrors { code } } }'
    )
    assert anonymous.data["accountUpdate"]["userErrors"] == [{"code": "UNAUTHENTICATED"}]


async def test_me_is_null_for_anonymous_callers_and_flags_staff(server: Server) -> None:
    api = server.client
    assert (await api.query(ME)).data == {"me": None}
    staff = await make_staff(server, "boss@example.com")
    assert (await api.query(ME, token=staff)).data["me"]["isStaff"] is True
    customer = await make_customer(server, "plain@example.com")
    assert (await api.query(ME, token=customer)).data["me"]["isStaff"] is False


@pytest.mark.usefixtures("backend")
async def test_sign_in_failures_count_across_workers(settings: Settings, clock: Clock) -> None:
    """Two servers (as two workers or machines) share one failure count through Redis."""
    shared = settings.with_overrides(redis_url=REDIS_URL)
    app_a, http_a, api_a = await open_app(shared, clock)
    app_b, http_b, api_b = await open_app(shared, clock)
    async with (
        app_a.router.lifespan_context(app_a),
        app_b.router.lifespan_context(app_b),
        http_a,
        http_b,
    ):
        await make_customer_via(api_a, "shared@example.com")
        for n in range(5):
            api = api_a if n % 2 else api_b
            wrong = await _sign_in(api, "shared@example.com", "wrong-wrong-1")
            assert wrong["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
        for api in (api_a, api_b):
            refused = await _sign_in(api, "shared@example.com")
            assert refused["userErrors"][0]["code"] == "TOO_MANY_REQUESTS"
