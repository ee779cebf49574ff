"""The claim service's pages in German and English.

Pages are self-contained HTML with inline styles: they load nothing from
third parties, and the service sends ``Referrer-Policy: no-referrer`` so the
token in a claim URL never leaks to another site.
"""

from __future__ import annotations

from html import escape

LANGUAGES = ("de", "en")

TEXTS = {
    "landing_title": {"de": "Konto mit Zaikio verknüpfen", "en": "Connect your account to Zaikio"},
    "landing_person": {
        "de": "Melden Sie sich bei Zaikio an (oder legen Sie ein Konto an). Danach ist Ihr bestehendes "
              "Konto mit Ihrem Zaikio-Konto verknüpft.",
        "en": "Sign in to Zaikio (or create an account). Your existing account is then connected to "
              "your Zaikio account.",
    },
    "landing_organization": {
        "de": "Wählen Sie bei Zaikio die Organisation aus, die zu Ihrer Organisation hier gehört.",
        "en": "At Zaikio, choose the organization that matches your organization here.",
    },
    "continue": {"de": "Weiter zu Zaikio", "en": "Continue to Zaikio"},
    "success_title": {"de": "Verknüpfung erfolgreich", "en": "Account connected"},
    "success_person": {
        "de": "Ihr Konto ist jetzt mit Zaikio verknüpft. Sie können sich ab sofort mit Zaikio anmelden.",
        "en": "Your account is now connected to Zaikio. From now on you can sign in with Zaikio.",
    },
    "success_organization": {
        "de": "Die Organisation ist jetzt mit Zaikio verknüpft.",
        "en": "The organization is now connected to Zaikio.",
    },
    "offers": {
        "de": "Sie sind Inhaber:in dieser Organisationen. Verknüpfen Sie sie gleich mit:",
        "en": "You own these organizations. Connect them right away:",
    },
    "claim_organization": {"de": "{name} verknüpfen", "en": "Connect {name}"},
    "error_title": {"de": "Verknüpfung nicht möglich", "en": "The account could not be connected"},
    "nothing_changed": {"de": "Es wurde nichts geändert.", "en": "Nothing was changed."},
}

REASONS = {
    "not_found": {
        "de": "Dieser Link ist unbekannt. Bitte prüfen Sie, ob Sie den vollständigen Link geöffnet haben.",
        "en": "This link is not known. Please check that you opened the whole link.",
    },
    "expired": {
        "de": "Dieser Link ist abgelaufen. Bitte fordern Sie beim Support einen neuen an.",
        "en": "This link has expired. Please ask support for a new one.",
    },
    "already_used": {
        "de": "Dieser Link wurde bereits verwendet; das Konto ist schon verknüpft.",
        "en": "This link was used already; the account is connected.",
    },
    "revoked": {
        "de": "Dieser Link wurde zurückgezogen. Bitte fordern Sie beim Support einen neuen an.",
        "en": "This link was revoked. Please ask support for a new one.",
    },
    "wrong_kind": {
        "de": "Bei Zaikio wurde die falsche Art von Konto gewählt (Person statt Organisation oder umgekehrt).",
        "en": "The wrong kind of account was chosen at Zaikio (a person instead of an organization, or "
              "the other way round).",
    },
    "state_mismatch": {
        "de": "Die Anmeldung wurde in einem anderen Browser begonnen oder ist abgelaufen. Öffnen Sie den "
              "Link bitte erneut in diesem Browser.",
        "en": "The sign-in was started in another browser or has timed out. Please open the link again "
              "in this browser.",
    },
    "already_mapped": {
        "de": "Dieses Zaikio-Konto ist bereits mit einem anderen Konto verknüpft. Melden Sie sich mit "
              "einem anderen Zaikio-Konto an oder wenden Sie sich an den Support.",
        "en": "This Zaikio account is already connected to another account. Sign in with a different "
              "Zaikio account or contact support.",
    },
    "not_owner": {
        "de": "Nur Inhaber:innen oder Administrator:innen der Organisation bei Zaikio können sie verknüpfen.",
        "en": "Only owners or admins of the organization at Zaikio can connect it.",
    },
    "hub_error": {
        "de": "Zaikio hat die Anmeldung abgebrochen oder abgelehnt. Bitte versuchen Sie es über den Link "
              "erneut.",
        "en": "Zaikio cancelled or refused the sign-in. Please try again from the link.",
    },
    "hub_unavailable": {
        "de": "Die Anmeldung bei Zaikio konnte gerade nicht abgeschlossen werden. Bitte versuchen Sie es "
              "später noch einmal; bleibt der Fehler, wenden Sie sich an den Support.",
        "en": "The sign-in with Zaikio could not be completed right now. Please try again later; if it "
              "keeps failing, contact support.",
    },
    "claim_failed": {
        "de": "Die Verknüpfung ist fehlgeschlagen. Bitte wenden Sie sich an den Support.",
        "en": "Connecting the account failed. Please contact support.",
    },
}

_STYLE = (
    "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f5f6f8;color:#1d2430;"
    "margin:0;padding:3rem 1rem}main{max-width:34rem;margin:auto;background:#fff;border-radius:8px;"
    "padding:2rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}h1{font-size:1.4rem;margin-top:0}"
    "button,a.button{display:inline-block;background:#1f5eff;color:#fff;border:0;border-radius:6px;"
    "padding:.7rem 1.2rem;font-size:1rem;text-decoration:none;cursor:pointer}"
    ".error h1{color:#b3261e}ul{padding-left:1.2rem}li{margin:.5rem 0}"
)


def pick_language(query_lang: str | None, accept_language: str | None) -> str:
    """Choose ``de`` or ``en`` from a ``lang`` parameter or the ``Accept-Language`` header."""
    if query_lang in LANGUAGES:
        return query_lang
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def text(key: str, language: str, **values: str) -> str:
    """Return a page text in ``language`` with ``values`` HTML-escaped and filled in."""
    return TEXTS[key][language].format(**{name: escape(value) for name, value in values.items()})


def render(title: str, body: str, language: str, css_class: str = "") -> str:
    """Wrap ``body`` (already escaped HTML) in a complete page."""
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="referrer" content="no-referrer"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><main class=\"{css_class}\"><h1>{escape(title)}</h1>"
        f"{body}</main></body></html>"
    )


def landing_page(kind: str, action: str, language: str) -> str:
    """Render the page an app-style link opens; its button POSTs to ``action``."""
    intro = text("landing_person" if kind == "person" else "landing_organization", language)
    form = (f'<form method="post" action="{escape(action)}">'
            f'<button type="submit">{text("continue", language)}</button></form>')
    return render(TEXTS["landing_title"][language], f"<p>{intro}</p>{form}", language)


def success_page(kind: str, offers: list[tuple[str, str]], language: str) -> str:
    """Render the success page; ``offers`` are (organization name, claim link) pairs."""
    body = f"<p>{text('success_person' if kind == 'person' else 'success_organization', language)}</p>"
    if offers:
        items = "".join(
            f'<li><a class="button" href="{escape(link)}">{text("claim_organization", language, name=name)}</a></li>'
            for name, link in offers
        )
        body += f"<p>{text('offers', language)}</p><ul>{items}</ul>"
    return render(TEXTS["success_title"][language], body, language)


def error_page(reason: str, language: str) -> str:
    """Render the page for a rejected claim; ``reason`` is a ``ClaimError.reason`` code."""
    message = REASONS.get(reason, REASONS["claim_failed"])[language]
    body = f"<p>{escape(message)}</p><p>{text('nothing_changed', language)}</p>"
    return render(TEXTS["error_title"][language], body, language, css_class="error")
