"""Minimal HTML pages of the stand-in's authorize flow: login, organization picker, consent, error.

Every form carries ``data-step`` (``login``, ``organization``, ``consent``) so
that :mod:`zaikio_ops.standin.browser` can fill it without guessing.
"""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

from zaikio_ops.standin.state import StandinApp, StandinOrganization, StandinPerson

__all__ = ["MAX_LISTED_PERSONS", "error_page", "login_page", "organization_page", "consent_page"]

MAX_LISTED_PERSONS = 200

_STYLE = "body{font-family:sans-serif;max-width:40em;margin:2em auto}label{display:block;margin:.3em 0}"


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)} – Zaikio stand-in</title>"
            f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>")
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def error_page(title: str, message: str, status: int) -> HTMLResponse:
    """Return an error page that does not redirect (e.g. unknown client or redirect URI)."""
    return _page(title, f"<p class='error' id='error'>{escape(message)}</p>", status)


def login_page(flow_id: str, app: StandinApp, persons: list[StandinPerson], login_hint: str | None,
               error: str | None = None, status: int = 200) -> HTMLResponse:
    """Return the login form: an e-mail field and radio buttons for the first seeded persons."""
    rows = []
    for person in persons[:MAX_LISTED_PERSONS]:
        rows.append(
            f"<label><input type='radio' name='person_id' value='{escape(person.id)}' "
            f"data-email='{escape(person.email)}'> {escape(person.full_name)} &lt;{escape(person.email)}&gt;</label>"
        )

    more = len(persons) - MAX_LISTED_PERSONS
    note = f"<p>{more} more persons are not listed; type their e-mail.</p>" if more > 0 else ""
    problem = f"<p class='error' id='error'>{escape(error)}</p>" if error else ""
    body = (
        f"<p>Log in to Zaikio to continue to <b>{escape(app.title)}</b>.</p>{problem}"
        f"<form method='post' action='/oauth/authorize/login' data-step='login'>"
        f"<input type='hidden' name='flow' value='{escape(flow_id)}'>"
        f"<label>E-mail <input type='email' name='email' value='{escape(login_hint or '')}'></label>"
        f"<p>or choose a seeded person:</p>{''.join(rows)}{note}"
        f"<button type='submit'>Log in</button></form>"
    )
    return _page("Log in", body, status)


def organization_page(flow_id: str, app: StandinApp, person: StandinPerson,
                      choices: list[tuple[StandinOrganization, bool]]) -> HTMLResponse:
    """Return the organization picker; organizations the person may not grant for are disabled."""
    rows = []
    for organization, may_grant in choices:
        disabled = "" if may_grant else " disabled"
        note = "" if may_grant else " (only owners and admins can install apps)"
        rows.append(
            f"<label><input type='radio' name='organization_id' value='{escape(organization.id)}'{disabled}> "
            f"{escape(organization.name)}{escape(note)}</label>"
        )

    body = (
        f"<p>{escape(person.full_name)}, choose the organization that connects <b>{escape(app.title)}</b>.</p>"
        f"<form method='post' action='/oauth/authorize/organization' data-step='organization'>"
        f"<input type='hidden' name='flow' value='{escape(flow_id)}'>{''.join(rows) or '<p>No organizations.</p>'}"
        f"<button type='submit' name='decision' value='select'>Continue</button>"
        f"<button type='submit' name='decision' value='deny'>Cancel</button></form>"
    )
    return _page("Choose organization", body)


def consent_page(flow_id: str, app: StandinApp, person: StandinPerson, scopes: list[str],
                 organization: StandinOrganization | None) -> HTMLResponse:
    """Return the consent form listing the requested scopes."""
    subject = f"the organization {organization.name}" if organization else "your account"
    items = "".join(f"<li>{escape(scope)}</li>" for scope in scopes)
    body = (
        f"<p>{escape(person.full_name)}, <b>{escape(app.title)}</b> requests access to {escape(subject)}:</p>"
        f"<ul>{items}</ul>"
        f"<form method='post' action='/oauth/authorize/consent' data-step='consent'>"
        f"<input type='hidden' name='flow' value='{escape(flow_id)}'>"
        f"<button type='submit' name='decision' value='allow'>Allow</button>"
        f"<button type='submit' name='decision' value='deny'>Cancel</button></form>"
    )
    return _page("Grant access", body)
