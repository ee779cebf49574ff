"""Drive the stand-in's authorize pages without a browser, for tests and the demo.

:func:`authorize_as` plays the user: it opens an authorize URL with an
``httpx.Client`` (whose cookie jar keeps the stand-in's session cookie), logs in
as the given person, picks the organization for ``Org.`` scopes, answers the
consent page and returns the URL the stand-in redirected to, i.e. the app's
callback with ``code`` and ``state`` or with ``error``::

    with httpx.Client() as browser:
        callback = authorize_as(browser, hub.authorize_url(...), "anna@example.com")
    code = parse_callback(callback, state)

It submits the same HTML forms a person would, so it exercises the real
validation (redirect URI, scopes, PKCE parameters, owner/admin check). Each call
first drops the stand-in's session cookie, so it always logs in as the
requested person; other cookies in the jar stay.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

from zaikio_ops.errors import ZaikioOpsError
from zaikio_ops.standin.oauth_routes import SESSION_COOKIE

__all__ = ["StandinBrowserError", "authorize_as"]

MAX_STEPS = 10


class StandinBrowserError(ZaikioOpsError):
    """The authorize pages did not lead to a redirect to the app (error page, unknown person)."""


class _FormParser(HTMLParser):
    """Collect forms (``data-step``, action, hidden inputs, radio options) and the error text."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.error_text = ""
        self._in_error = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}

        if tag == "form":
            self.forms.append({"step": attributes.get("data-step", ""), "action": attributes.get("action", ""),
                               "hidden": {}, "radios": []})
        elif tag == "input" and self.forms:
            form = self.forms[-1]
            if attributes.get("type") == "hidden":
                form["hidden"][attributes.get("name", "")] = attributes.get("value", "")
            elif attributes.get("type") == "radio":
                form["radios"].append(attributes)
        elif attributes.get("id") == "error":
            self._in_error = True

    def handle_endtag(self, tag: str) -> None:
        self._in_error = False

    def handle_data(self, data: str) -> None:
        if self._in_error:
            self.error_text += data


def _same_origin(url: str, other: str) -> bool:
    first, second = urlsplit(url), urlsplit(other)
    return (first.scheme, first.netloc) == (second.scheme, second.netloc)


def _login_fields(form: dict, person: str) -> dict[str, str]:
    if "@" in person:
        return {"email": person}
    return {"person_id": person}


def _organization_fields(form: dict, organization_id: str | None) -> dict[str, str]:
    enabled = [r["value"] for r in form["radios"] if "disabled" not in r]
    if organization_id is None:
        if len(enabled) != 1:
            raise StandinBrowserError(
                f"The organization picker offers {len(enabled)} organizations this person may grant for; "
                "pass organization_id to choose one."
            )
        organization_id = enabled[0]
    return {"organization_id": organization_id, "decision": "select"}


def authorize_as(
    http_client: httpx.Client,
    authorize_url: str,
    person: str,
    organization_id: str | None = None,
    *,
    approve: bool = True,
) -> str:
    """Complete the stand-in's authorize flow as ``person`` and return the callback URL.

    Parameters
    ----------
    http_client : httpx.Client
        Client used as the browser; redirects are followed here, not by httpx.
    authorize_url : str
        URL from :meth:`zaikio_ops.hub.HubClient.authorize_url`.
    person : str
        E-mail address or Zaikio id of a seeded person.
    organization_id : str, optional
        Organization to choose on the picker; needed when the person may
        grant for more than one.
    approve : bool
        False presses Cancel on the consent page (the app gets ``access_denied``).

    Returns
    -------
    str
        The redirect target outside the stand-in: the app's callback URL.

    Raises
    ------
    StandinBrowserError
        The stand-in returned an error page, or the flow did not end
        within 10 steps.
    """
    http_client.cookies.delete(SESSION_COOKIE)
    response = http_client.get(authorize_url, follow_redirects=False)

    for _ in range(MAX_STEPS):
        if response.is_redirect:
            target = urljoin(str(response.url), response.headers["location"])
            if not _same_origin(target, authorize_url):
                return target
            response = http_client.get(target, follow_redirects=False)
            continue

        parser = _FormParser()
        parser.feed(response.text)
        if response.status_code >= 400 or not parser.forms:
            message = parser.error_text.strip() or f"status {response.status_code}"
            raise StandinBrowserError(f"The stand-in's authorize page reported an error: {message}")

        form = parser.forms[0]
        fields = dict(form["hidden"])
        if form["step"] == "login":
            fields.update(_login_fields(form, person))
        elif form["step"] == "organization":
            fields.update(_organization_fields(form, organization_id))
        else:
            fields["decision"] = "allow" if approve else "deny"

        response = http_client.post(urljoin(str(response.url), form["action"]), data=fields,
                                    follow_redirects=False)

    raise StandinBrowserError(f"The authorize flow did not redirect to the app within {MAX_STEPS} steps.")
