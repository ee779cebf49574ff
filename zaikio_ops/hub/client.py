"""Synchronous Zaikio Hub client on one shared :class:`httpx.Client`.

Typical use::

    with HubClient("https://hub.sandbox.zaikio.com", client_id, Secret(secret)) as hub:
        pkce = generate_pkce()
        url = hub.authorize_url(redirect_uri, ["zaikio.person.r"], state, pkce=pkce)
        ...  # browser goes to url, comes back to redirect_uri?code=...&state=...
        token = hub.exchange_code(parse_callback(callback_url, state), code_verifier=pkce.verifier)
        person = hub.get_person(token)

The code exchange sends ``client_id`` and ``client_secret`` in the form body,
as Zaikio's own Ruby OAuth client does. Refresh and client-credentials grants
use HTTP Basic auth, because Zaikio requires it for confidential credentials.
"""

from __future__ import annotations

import logging
from typing import Any, Iterator
from urllib.parse import urlsplit

import httpx

from zaikio_ops.hub.errors import HubProtocolError, error_from_response
from zaikio_ops.hub.models import (
    AccessToken,
    Connection,
    Membership,
    Organization,
    Page,
    Person,
    Role,
)
from zaikio_ops.hub.oauth import PersonPrefill, PkcePair, build_authorize_url
from zaikio_ops.hub.retry import RetryPolicy, send_with_retry
from zaikio_ops.secret import Secret

__all__ = ["HubClient", "DEFAULT_TIMEOUT"]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
TOKEN_PATH = "/oauth/access_token"
API_PREFIX = "/api/v1"

TokenLike = AccessToken | Secret | str


def _bearer_header(token: TokenLike) -> dict[str, str]:
    if isinstance(token, AccessToken):
        value = token.access_token.reveal()
    elif isinstance(token, Secret):
        value = token.reveal()
    else:
        value = token
    return {"Authorization": f"Bearer {value}"}


def _int_header(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class HubClient:
    """Client for the Hub's OAuth endpoints and the ``/api/v1`` REST API.

    Parameters
    ----------
    base_url : str
        Hub origin without path, e.g. ``https://hub.zaikio.com`` or a stand-in URL.
    client_id : str
        The app's OAuth client id.
    client_secret : Secret or None
        The client secret of confidential credentials; None for public (PKCE-only) apps.
    http_client : httpx.Client, optional
        A client to share; the caller keeps ownership and sets its timeouts.
    transport : httpx.BaseTransport, optional
        Transport for the client this object creates (e.g. ``httpx.MockTransport``).
    timeout : float
        Seconds for connect/read/write/pool when this object creates the client.
    retry : RetryPolicy, optional
        Attempts and waits for idempotent requests.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: Secret | None = None,
        *,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
    ) -> None:
        if client_secret is not None and not isinstance(client_secret, Secret):
            client_secret = Secret(client_secret)

        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.retry = retry or RetryPolicy()
        self._owns_client = http_client is None
        self._http = http_client or httpx.Client(
            timeout=httpx.Timeout(timeout), transport=transport, headers={"Accept": "application/json"}
        )
        self.last_page: Page | None = None

    def __repr__(self) -> str:
        secret = "set" if self._client_secret else "none"
        return f"HubClient(base_url={self.base_url!r}, client_id={self.client_id!r}, client_secret={secret})"

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            self._http.close()

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # OAuth

    def authorize_url(
        self,
        redirect_uri: str,
        scopes: list[str] | tuple[str, ...],
        state: str | Secret,
        *,
        pkce: PkcePair | None = None,
        prefill: PersonPrefill | None = None,
        lang: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> str:
        """Build this app's authorize URL; see :func:`zaikio_ops.hub.oauth.build_authorize_url`."""
        return build_authorize_url(self.base_url, self.client_id, redirect_uri, scopes, state,
                                   pkce=pkce, prefill=prefill, lang=lang, extra=extra)

    def exchange_code(self, code: str, *, code_verifier: Secret | str | None = None,
                      redirect_uri: str | None = None) -> AccessToken:
        """Exchange an authorization code for a token (``grant_type=authorization_code``).

        Parameters
        ----------
        code : str
            The ``code`` from the callback; single-use.
        code_verifier : Secret or str, optional
            The PKCE verifier whose challenge went into the authorize URL.
        redirect_uri : str, optional
            Sent only if given; Zaikio does not require it.
        """
        form = {"grant_type": "authorization_code", "code": code, "client_id": self.client_id}

        if self._client_secret is not None:
            form["client_secret"] = self._client_secret.reveal()
        if code_verifier is not None:
            form["code_verifier"] = code_verifier.reveal() if isinstance(code_verifier, Secret) else code_verifier
        if redirect_uri is not None:
            form["redirect_uri"] = redirect_uri

        return self._token_request(form, auth=None)

    def refresh(self, refresh_token: AccessToken | Secret | str) -> AccessToken:
        """Trade a refresh token for a new token pair; the old refresh token stops working."""
        if isinstance(refresh_token, AccessToken):
            if refresh_token.refresh_token is None:
                raise HubProtocolError("This access token has no refresh token; request a new one instead.")
            refresh_token = refresh_token.refresh_token

        value = refresh_token.reveal() if isinstance(refresh_token, Secret) else refresh_token
        form = {"grant_type": "refresh_token", "refresh_token": value}

        if self._client_secret is None:
            form["client_id"] = self.client_id
        return self._token_request(form, auth=self._basic_auth_or_none())

    def client_credentials(self, bearer_id: str, scopes: list[str] | tuple[str, ...] = ("zaikio.organization_members.r",),
                           *, bearer_type: str = "Org") -> AccessToken:
        """Get a token for one organization (or person) that connected the app.

        Parameters
        ----------
        bearer_id : str
            UUID of the organization (``bearer_type="Org"``) or person (``"Per"``).
        scopes : sequence of str
            Plain scopes such as ``zaikio.organization_members.r``; each is sent
            as ``<bearer_type>/<bearer_id>.<scope>``.
        bearer_type : {"Org", "Per"}
            Bearer kind of the scopes.

        Raises
        ------
        BearerDoesNotExist
            The bearer does not exist or has not connected the app.
        UngrantedScope
            The connection does not include one of the scopes.
        """
        if bearer_type not in ("Org", "Per"):
            raise ValueError(f"bearer_type {bearer_type!r} is invalid; use 'Org' or 'Per'.")

        scope = ",".join(f"{bearer_type}/{bearer_id}.{s}" for s in scopes)
        form = {"grant_type": "client_credentials", "scope": scope}
        return self._token_request(form, auth=self._require_basic_auth("client credentials"))

    def _basic_auth_or_none(self) -> httpx.BasicAuth | None:
        if self._client_secret is None:
            return None
        return httpx.BasicAuth(self.client_id, self._client_secret.reveal())

    def _require_basic_auth(self, grant_name: str) -> httpx.BasicAuth:
        auth = self._basic_auth_or_none()
        if auth is None:
            raise HubProtocolError(f"The {grant_name} grant needs the app's client secret; set ZAIKIO_CLIENT_SECRET.")
        return auth

    def _token_request(self, form: dict[str, str], auth: httpx.Auth | None) -> AccessToken:
        request = self._http.build_request("POST", self.base_url + TOKEN_PATH, data=form,
                                           headers={"Accept": "application/json"})
        if auth is not None:
            request = next(auth.auth_flow(request))

        logger.info("Requesting a Hub token (grant %s)", form["grant_type"])
        response = send_with_retry(self._http, request, self.retry, TOKEN_PATH)

        if response.status_code != 200:
            raise error_from_response("POST", TOKEN_PATH, response)

        token = AccessToken.from_dict(self._json(response, "POST", TOKEN_PATH))
        logger.info("Received a Hub token for %s %s", token.bearer_type, token.bearer_id)
        return token

    # REST API

    def get_person(self, token: TokenLike) -> Person:
        """Return the token's person (``GET /api/v1/person``, scope ``zaikio.person.r``)."""
        return Person.from_dict(self._get_json("/person", headers=_bearer_header(token)))

    def get_organization(self, token: TokenLike) -> Organization:
        """Return the token's organization (``GET /api/v1/organization``, scope ``zaikio.organization.r``)."""
        return Organization.from_dict(self._get_json("/organization", headers=_bearer_header(token)))

    def list_memberships(self, token: TokenLike) -> list[Membership]:
        """Return the organization's members (scope ``zaikio.organization_members.r``)."""
        items = self._collect("/organization/memberships", headers=_bearer_header(token))
        return [Membership.from_dict(item) for item in items]

    def list_roles(self, lang: str | None = None) -> list[Role]:
        """Return the Hub's role ids in their defined order (public endpoint)."""
        params = {"lang": lang} if lang else None
        return [Role.from_dict(item) for item in self._collect("/roles", params=params)]

    def iter_connections(self, *, per_page: int = 100, connectable_id: str | None = None) -> Iterator[Connection]:
        """Yield every connection of this app, following ``Link: rel="next"`` (HTTP Basic auth).

        Parameters
        ----------
        per_page : int
            Page size, 1 to 100.
        connectable_id : str, optional
            Filter such as ``Organization-<uuid>``.
        """
        params: dict[str, Any] = {"per_page": per_page}
        if connectable_id:
            params["filters[connectable_id]"] = connectable_id

        auth = self._require_basic_auth("connections listing")
        for page in self.iter_pages("/connections", params=params, auth=auth):
            for item in page.items:
                yield Connection.from_dict(item)

    def list_connections(self, *, per_page: int = 100, connectable_id: str | None = None) -> list[Connection]:
        """Return all connections of this app; see :meth:`iter_connections`."""
        return list(self.iter_connections(per_page=per_page, connectable_id=connectable_id))

    def get_jwks(self) -> dict[str, Any]:
        """Return the Hub's JSON Web Key Set (``GET /api/v1/jwt_public_keys``)."""
        return self._get_json("/jwt_public_keys")

    def revoked_token_ids(self) -> list[str]:
        """Return the ids (``jti``) of revoked, not yet expired access tokens."""
        return list(self._get_json("/revoked_access_tokens").get("revoked_token_ids", []))

    def revoke(self, token: TokenLike) -> str:
        """Revoke an access token (``POST /api/v1/revoked_access_tokens``) and return its ``jti``."""
        path = API_PREFIX + "/revoked_access_tokens"
        request = self._http.build_request("POST", self.base_url + path, headers=_bearer_header(token))
        response = send_with_retry(self._http, request, self.retry, path)

        if response.status_code not in (200, 201):
            raise error_from_response("POST", path, response)
        return str(self._json(response, "POST", path).get("access_token_id"))

    # Transport helpers

    def iter_pages(self, path: str, *, params: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None, auth: httpx.Auth | None = None) -> Iterator[Page]:
        """Yield the pages of a list endpoint, following ``Link: rel="next"`` until none is left.

        ``path`` is relative to ``/api/v1``. The last page seen is also kept in
        :attr:`last_page`. A next link to another origin raises
        :class:`HubProtocolError`, so credentials never leave the Hub.
        """
        full_path = API_PREFIX + path
        url: str | None = self.base_url + full_path
        query = params

        while url is not None:
            response = self._get(url, full_path, params=query, headers=headers, auth=auth)
            body = self._json(response, "GET", full_path)
            if not isinstance(body, list):
                raise HubProtocolError(f"GET {full_path} returned a JSON {type(body).__name__}, expected a list.")

            next_url = response.links.get("next", {}).get("url")
            page = Page(items=body, current_page=_int_header(response, "Current-Page"),
                        total_pages=_int_header(response, "Total-Pages"),
                        total_count=_int_header(response, "Total-Count"), next_url=next_url)
            self.last_page = page
            logger.debug("GET %s page %s of %s: %d items", full_path, page.current_page, page.total_pages,
                         len(body))
            yield page

            url = self._checked_next(next_url, full_path)
            query = None

    def _checked_next(self, next_url: str | None, path: str) -> str | None:
        if next_url is None:
            return None

        expected = urlsplit(self.base_url)
        actual = urlsplit(next_url)
        if (actual.scheme, actual.netloc) != (expected.scheme, expected.netloc):
            raise HubProtocolError(
                f"GET {path} sent a next-page link to {actual.scheme}://{actual.netloc}, not to the Hub "
                f"at {expected.scheme}://{expected.netloc}; the link was not followed."
            )
        return next_url

    def _collect(self, path: str, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in self.iter_pages(path, **kwargs):
            items.extend(page.items)
        return items

    def _get_json(self, path: str, *, headers: dict[str, str] | None = None,
                  params: dict[str, Any] | None = None) -> Any:
        full_path = API_PREFIX + path
        response = self._get(self.base_url + full_path, full_path, params=params, headers=headers)
        return self._json(response, "GET", full_path)

    def _get(self, url: str, path: str, *, params: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None, auth: httpx.Auth | None = None) -> httpx.Response:
        request = self._http.build_request("GET", url, params=params, headers=headers)
        if auth is not None:
            request = next(auth.auth_flow(request))

        response = send_with_retry(self._http, request, self.retry, path)
        if response.status_code >= 400:
            raise error_from_response("GET", path, response)
        return response

    @staticmethod
    def _json(response: httpx.Response, method: str, path: str) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise HubProtocolError(
                f"{method} {path} returned status {response.status_code} with a body that is not JSON "
                f"(Content-Type {response.headers.get('Content-Type')!r})."
            ) from exc
