"""OAuth flows of the client against the stand-in over real HTTP."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from hub_testdata import (
    APP_NAME,
    CLIENT_SECRET,
    ORG_MAIN,
    ORG_OTHER,
    PERSON_ADMIN,
    PERSON_MEMBER,
    PERSON_OWNER,
    PUBLIC_CLIENT_ID,
    REDIRECT_URI,
)
from zaikio_ops.hub import (
    AccessDenied,
    BearerDoesNotExist,
    Forbidden,
    HubClient,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    UngrantedScope,
    generate_pkce,
    parse_callback,
)
from zaikio_ops.standin.browser import StandinBrowserError, authorize_as


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _person_login(hub_client, browser, person=PERSON_OWNER, state="s-1", scopes=("zaikio.person.r",)):
    pkce = generate_pkce()
    url = hub_client.authorize_url(REDIRECT_URI, list(scopes), state, pkce=pkce)
    callback = authorize_as(browser, url, person)
    return callback, pkce


def test_code_flow_pkce_bearer_is_person(hub_client, browser, standin_hub):
    callback, pkce = _person_login(hub_client, browser, state="claim-123")
    token = hub_client.exchange_code(parse_callback(callback, "claim-123"), code_verifier=pkce.verifier)

    assert token.bearer_id == PERSON_OWNER
    assert token.bearer_type == "Person"
    assert token.scopes == ["zaikio.person.r"]
    assert token.audiences == [APP_NAME]
    assert token.refresh_token is not None


def test_code_flow_callback_target(hub_client, browser):
    callback, _ = _person_login(hub_client, browser, state="abc")

    assert callback.startswith(REDIRECT_URI + "?")
    assert _query(callback)["state"] == "abc"


def test_code_flow_jwt_verifies_against_jwks(hub_client, browser, standin_hub):
    callback, pkce = _person_login(hub_client, browser)
    token = hub_client.exchange_code(parse_callback(callback, "s-1"), code_verifier=pkce.verifier)
    jwks = httpx.get(standin_hub.base_url + "/api/v1/jwt_public_keys").json()
    raw = token.access_token.reveal()
    kid = jwt.get_unverified_header(raw)["kid"]
    key = next(k for k in jwks["keys"] if k["kid"] == kid)

    claims = jwt.decode(raw, jwt.PyJWK(key, algorithm="RS256").key, algorithms=["RS256"], audience=APP_NAME)

    assert claims["sub"] == f"Person/{PERSON_OWNER}"
    assert claims["iss"] == "ZAI"
    assert claims["scope"] == ["zaikio.person.r"]
    assert claims["jku"] == standin_hub.base_url + "/api/v1/jwt_public_keys"
    assert claims["exp"] - claims["nbf"] == token.expires_in


def test_code_flow_person_endpoint(hub_client, browser):
    callback, pkce = _person_login(hub_client, browser, person="tstark@example.com")
    token = hub_client.exchange_code(parse_callback(callback, "s-1"), code_verifier=pkce.verifier)

    person = hub_client.get_person(token)

    assert person.id == PERSON_MEMBER
    assert person.email == "tstark@example.com"
    assert [m.organization.id for m in person.organization_memberships] == [ORG_MAIN]
    assert person.organization_memberships[0].roles == ["member"]


def test_token_response_keys_exact(standin_hub, browser, hub_client):
    callback, pkce = _person_login(hub_client, browser)
    response = httpx.post(standin_hub.base_url + "/oauth/access_token", data={
        "grant_type": "authorization_code", "code": _query(callback)["code"], "client_id": standin_hub.client_id,
        "client_secret": CLIENT_SECRET, "code_verifier": pkce.verifier.reveal()})
    body = response.json()

    assert response.status_code == 200
    assert list(body) == ["access_token", "refresh_token", "token_type", "scope", "audiences", "expires_in",
                          "bearer"]
    assert body["token_type"] == "bearer"
    assert isinstance(body["expires_in"], int)
    assert body["bearer"] == {"id": PERSON_OWNER, "type": "Person"}


def test_redirect_uri_exact_match_required(hub_client, browser):
    for variant in (REDIRECT_URI + "/", REDIRECT_URI + "?x=1", REDIRECT_URI.upper(), "http://evil.test/cb"):
        url = hub_client.authorize_url(variant, ["zaikio.person.r"], "s")
        response = browser.get(url, follow_redirects=False)

        assert response.status_code == 400, variant
        assert "location" not in response.headers, variant


def test_redirect_uri_second_registered_accepted(hub_client, browser):
    url = hub_client.authorize_url("http://127.0.0.1:9/other", ["zaikio.person.r"], "s")
    callback = authorize_as(browser, url, PERSON_OWNER)

    assert callback.startswith("http://127.0.0.1:9/other?code=")


def test_code_single_use(hub_client, browser):
    callback, pkce = _person_login(hub_client, browser)
    code = parse_callback(callback, "s-1")
    hub_client.exchange_code(code, code_verifier=pkce.verifier)

    with pytest.raises(InvalidGrant) as caught:
        hub_client.exchange_code(code, code_verifier=pkce.verifier)

    assert caught.value.status == 400
    assert code not in str(caught.value)


def test_code_expires_after_ten_minutes(hub_client, browser, standin_hub):
    callback, pkce = _person_login(hub_client, browser)
    real_clock = standin_hub.state.clock
    standin_hub.state.clock = lambda: real_clock() + 601

    with pytest.raises(InvalidGrant):
        hub_client.exchange_code(parse_callback(callback, "s-1"), code_verifier=pkce.verifier)


def test_pkce_mismatch_rejected(hub_client, browser):
    callback, _ = _person_login(hub_client, browser)
    other = generate_pkce()

    with pytest.raises(InvalidGrant):
        hub_client.exchange_code(parse_callback(callback, "s-1"), code_verifier=other.verifier)


def test_pkce_missing_verifier_rejected(hub_client, browser):
    callback, _ = _person_login(hub_client, browser)

    with pytest.raises(InvalidRequest):
        hub_client.exchange_code(parse_callback(callback, "s-1"))


def test_pkce_plain_method_accepted(hub_client, browser):
    pkce = generate_pkce("plain")
    url = hub_client.authorize_url(REDIRECT_URI, ["zaikio.person.r"], "s", pkce=pkce)
    callback = authorize_as(browser, url, PERSON_OWNER)

    token = hub_client.exchange_code(parse_callback(callback, "s"), code_verifier=pkce.verifier)

    assert token.bearer_id == PERSON_OWNER


def test_public_client_needs_pkce(standin_hub, browser):
    with HubClient(standin_hub.base_url, PUBLIC_CLIENT_ID) as public:
        callback = authorize_as(browser, public.authorize_url(REDIRECT_URI, ["zaikio.person.r"], "s"), PERSON_OWNER)

    with pytest.raises(InvalidRequest) as caught:
        parse_callback(callback, "s")

    assert "code_challenge" in caught.value.description


def test_public_client_pkce_exchange_json(standin_hub, browser):
    with HubClient(standin_hub.base_url, PUBLIC_CLIENT_ID) as public:
        pkce = generate_pkce()
        callback = authorize_as(browser, public.authorize_url(REDIRECT_URI, ["zaikio.person.r"], "s", pkce=pkce),
                                PERSON_OWNER)

    body = {"client_id": PUBLIC_CLIENT_ID, "code": _query(callback)["code"], "code_verifier": pkce.verifier.reveal()}
    response = httpx.post(standin_hub.base_url + "/oauth/access_token.json", json=body)

    assert response.status_code == 200
    assert response.json()["bearer"]["id"] == PERSON_OWNER


def test_refresh_rotates_and_rejects_old(hub_client, browser):
    callback, pkce = _person_login(hub_client, browser)
    first = hub_client.exchange_code(parse_callback(callback, "s-1"), code_verifier=pkce.verifier)
    second = hub_client.refresh(first)

    assert second.refresh_token != first.refresh_token
    assert second.bearer_id == PERSON_OWNER
    with pytest.raises(InvalidGrant):
        hub_client.refresh(first)


def test_refresh_new_token_works(hub_client, browser):
    callback, pkce = _person_login(hub_client, browser)
    first = hub_client.exchange_code(parse_callback(callback, "s-1"), code_verifier=pkce.verifier)
    third = hub_client.refresh(hub_client.refresh(first))

    assert hub_client.get_person(third).id == PERSON_OWNER


def test_refresh_denied_after_disconnect(hub_client, browser, standin_hub):
    callback, pkce = _person_login(hub_client, browser)
    token = hub_client.exchange_code(parse_callback(callback, "s-1"), code_verifier=pkce.verifier)
    standin_hub.state.disconnect(APP_NAME, "Person", PERSON_OWNER)

    with pytest.raises(InvalidGrant):
        hub_client.refresh(token)


def test_client_credentials_without_connection(hub_client):
    with pytest.raises(BearerDoesNotExist) as caught:
        hub_client.client_credentials(ORG_MAIN, ["zaikio.organization_members.r"])

    assert caught.value.status == 402
    assert caught.value.error_ids == ["bearer_does_not_exist"]


def test_client_credentials_body_shape(standin_hub):
    scope = f"Org/{ORG_MAIN}.zaikio.organization.r"
    response = httpx.post(standin_hub.base_url + "/oauth/access_token",
                          data={"grant_type": "client_credentials", "scope": scope},
                          auth=(standin_hub.client_id, CLIENT_SECRET))

    assert response.status_code == 402
    assert response.json() == {"errors": {"scopes": ["bearer_does_not_exist"]}}


def test_client_credentials_requires_basic_auth(standin_hub):
    response = httpx.post(standin_hub.base_url + "/oauth/access_token", data={
        "grant_type": "client_credentials", "scope": f"Org/{ORG_MAIN}.zaikio.organization.r",
        "client_id": standin_hub.client_id, "client_secret": CLIENT_SECRET})

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_org_install_then_client_credentials(hub_client, browser):
    url = hub_client.authorize_url(REDIRECT_URI, ["Org.zaikio.organization.r", "Org.zaikio.organization_members.r"],
                                   "s", pkce=generate_pkce())
    authorize_as(browser, url, PERSON_OWNER, organization_id=ORG_MAIN)

    token = hub_client.client_credentials(ORG_MAIN, ["zaikio.organization_members.r"])
    members = hub_client.list_memberships(token)

    assert token.bearer_type == "Organization"
    assert token.refresh_token is None
    assert sorted(m.person.id for m in members) == sorted([PERSON_OWNER, PERSON_MEMBER, PERSON_ADMIN])


def test_client_credentials_ungranted_scope(hub_client, browser):
    url = hub_client.authorize_url(REDIRECT_URI, ["Org.zaikio.organization.r"], "s")
    authorize_as(browser, url, PERSON_ADMIN)

    with pytest.raises(UngrantedScope):
        hub_client.client_credentials(ORG_MAIN, ["zaikio.organization_members.r"])


def test_org_picker_member_cannot_grant(hub_client, browser):
    url = hub_client.authorize_url(REDIRECT_URI, [f"Org/{ORG_MAIN}.zaikio.organization.r"], "s")
    callback = authorize_as(browser, url, PERSON_MEMBER)

    with pytest.raises(AccessDenied):
        parse_callback(callback, "s")


def test_org_picker_disables_member_orgs(hub_client, browser):
    url = hub_client.authorize_url(REDIRECT_URI, ["Org.zaikio.organization.r"], "s")

    with pytest.raises(StandinBrowserError, match="0 organizations"):
        authorize_as(browser, url, PERSON_MEMBER)


def test_org_picker_requires_choice_for_owner(hub_client, browser):
    url = hub_client.authorize_url(REDIRECT_URI, ["Org.zaikio.organization.r"], "s")

    with pytest.raises(StandinBrowserError, match="2 organizations"):
        authorize_as(browser, url, PERSON_OWNER)


def test_org_token_bearer_is_chosen_org(hub_client, browser):
    url = hub_client.authorize_url(REDIRECT_URI, ["Org.zaikio.organization.r"], "s")
    callback = authorize_as(browser, url, PERSON_OWNER, organization_id=ORG_OTHER)
    token = hub_client.exchange_code(parse_callback(callback, "s"))

    assert token.bearer_id == ORG_OTHER
    assert hub_client.get_organization(token).name == "Crispy Mountain GmbH"


def test_consent_cancel_access_denied(hub_client, browser):
    url = hub_client.authorize_url(REDIRECT_URI, ["zaikio.person.r"], "s")
    callback = authorize_as(browser, url, PERSON_OWNER, approve=False)

    assert _query(callback)["error"] == "access_denied"
    assert _query(callback)["state"] == "s"


def test_scope_not_desired_invalid_scope(hub_client, browser):
    response = browser.get(hub_client.authorize_url(REDIRECT_URI, ["warehouse.items.r"], "s"),
                           follow_redirects=False)

    with pytest.raises(InvalidScope) as caught:
        parse_callback(response.headers["location"], "s")

    assert caught.value.description == "scope_is_not_included_in_desired_scopes"


def test_scope_malformed_invalid_scope(hub_client, browser):
    response = browser.get(hub_client.authorize_url(REDIRECT_URI, ["person"], "s"), follow_redirects=False)

    assert _query(response.headers["location"])["error_description"] == "malformed_scope"


def test_directory_scope_prefix_accepted(hub_client, browser):
    pkce = generate_pkce()
    url = hub_client.authorize_url(REDIRECT_URI, ["directory.person.r"], "s", pkce=pkce)
    token = hub_client.exchange_code(parse_callback(authorize_as(browser, url, PERSON_OWNER), "s"),
                                     code_verifier=pkce.verifier)

    assert token.scopes == ["zaikio.person.r"]


def test_prefill_bracket_keys_reach_login(hub_client, browser):
    from zaikio_ops.hub import PersonPrefill

    url = hub_client.authorize_url(REDIRECT_URI, ["zaikio.person.r"], "s",
                                   prefill=PersonPrefill("Cathrin", "Janeway", "cj@example.com"))
    page = browser.get(url).text

    assert "value='cj@example.com'" in page


def test_granted_session_redirects_silently(hub_client, browser):
    _person_login(hub_client, browser)
    url = hub_client.authorize_url(REDIRECT_URI, ["zaikio.person.r"], "again")

    response = browser.get(url, follow_redirects=False)

    assert response.status_code == 302
    assert _query(response.headers["location"])["state"] == "again"
    assert "code" in _query(response.headers["location"])


def test_wrong_person_token_cannot_read_org(hub_client, browser):
    callback, pkce = _person_login(hub_client, browser)
    token = hub_client.exchange_code(parse_callback(callback, "s-1"), code_verifier=pkce.verifier)

    with pytest.raises(Forbidden) as caught:
        hub_client.get_organization(token)

    assert "unpermitted_subject" in caught.value.error_ids


def test_revoked_token_rejected(hub_client, browser):
    callback, pkce = _person_login(hub_client, browser)
    token = hub_client.exchange_code(parse_callback(callback, "s-1"), code_verifier=pkce.verifier)
    jti = hub_client.revoke(token)

    assert jti == token.unverified_claims()["jti"]
    assert jti in hub_client.revoked_token_ids()
    with pytest.raises(Forbidden):
        hub_client.get_person(token)


def test_pkce_challenge_is_s256_of_verifier():
    pkce = generate_pkce()
    digest = hashlib.sha256(pkce.verifier.reveal().encode()).digest()

    assert pkce.challenge == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert len(pkce.verifier.reveal()) >= 43
