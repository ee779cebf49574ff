"""Mail-merge texts for claim links, in German and English.

The texts reach end users, so they are written by hand per language rather
than translated by placeholder.
"""

from __future__ import annotations

import pandas as pd

SUBJECTS = {
    "person": {
        "de": "Bitte verknüpfen Sie Ihr Konto mit Zaikio",
        "en": "Please connect your account to Zaikio",
    },
    "organization": {
        "de": "Bitte verknüpfen Sie {organization} mit Zaikio",
        "en": "Please connect {organization} to Zaikio",
    },
}

BODIES = {
    "person": {
        "de": (
            "Hallo {name},\n\n"
            "wir stellen die Anmeldung auf Zaikio um. Mit dem folgenden Link verknüpfen Sie Ihr "
            "bestehendes Konto mit Ihrem Zaikio-Konto (oder legen eines an):\n\n{link}\n\n"
            "Der Link gilt bis {expires} (UTC) und funktioniert nur einmal. Bitte leiten Sie ihn "
            "nicht weiter.\n"
        ),
        "en": (
            "Hello {name},\n\n"
            "we are moving sign-in to Zaikio. This link connects your existing account to your "
            "Zaikio account (or creates one):\n\n{link}\n\n"
            "The link works once and until {expires} (UTC). Please do not forward it.\n"
        ),
    },
    "organization": {
        "de": (
            "Hallo {name},\n\n"
            "als Inhaber:in von {organization} können Sie die Organisation jetzt mit Zaikio "
            "verknüpfen:\n\n{link}\n\n"
            "Der Link gilt bis {expires} (UTC) und funktioniert nur einmal.\n"
        ),
        "en": (
            "Hello {name},\n\n"
            "as an owner of {organization} you can now connect the organization to Zaikio:\n\n"
            "{link}\n\nThe link works once and until {expires} (UTC).\n"
        ),
    },
}


def language_for(locale: object, forced: str) -> str:
    """Pick ``de`` or ``en``: the forced language, or by the person's locale for ``auto``."""
    if forced in ("de", "en"):
        return forced
    return "de" if isinstance(locale, str) and locale.lower().startswith("de") else "en"


def mail_columns(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    """Return ``mail_subject`` and ``mail_text`` columns for rows that contain plain links."""
    if language not in ("de", "en", "auto"):
        from zaikio_ops.errors import ExportError

        raise ExportError(f"Unknown mail language {language!r}; use 'de', 'en' or 'auto'.")

    subjects, texts = [], []
    for row in frame.itertuples(index=False):
        chosen = language_for(row.locale, language)
        name = " ".join(part for part in (row.first_name, row.last_name) if isinstance(part, str)) or "…"
        organization = row.organization_name if isinstance(row.organization_name, str) else ""
        values = {"name": name, "organization": organization, "link": row.link,
                  "expires": pd.Timestamp(row.expires_at).strftime("%Y-%m-%d %H:%M")}
        subjects.append(SUBJECTS[row.kind][chosen].format(**values))
        texts.append(BODIES[row.kind][chosen].format(**values))
    return pd.DataFrame({"mail_subject": subjects, "mail_text": texts}, index=frame.index)
