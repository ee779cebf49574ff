"""Claim links as they leave the kit: built once, shown masked, exported once.

Only token hashes are stored, so the plain links exist only in the
:class:`ClaimLinks` returned by a generate call. Its repr, HTML repr and
:meth:`ClaimLinks.masked` never show a whole link; :meth:`ClaimLinks.export`
writes them to a 0600 CSV file for the mail merge. A lost export means
rotating the links (``claims generate --rotate``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import pandas as pd

from zaikio_ops.config import Config, ExportSettings
from zaikio_ops.exports import write_csv
from zaikio_ops.hub.oauth import PersonPrefill, PkcePair, build_authorize_url, s256_challenge
from zaikio_ops.claims.tokens import derive_verifier
from zaikio_ops.secret import Secret, mask

PERSON_SCOPE = "zaikio.person.r"
ORGANIZATION_SCOPE = "Org.zaikio.organization.r"
# The organization claim also requests the member list, which proves the
# claimant is an owner and lets the kit reconcile memberships later.
ORGANIZATION_SCOPES = (ORGANIZATION_SCOPE, "Org.zaikio.organization_members.r")
LINK_COLUMNS = ("kind", "subject_id", "person_id", "email", "first_name", "last_name", "locale",
                "organization_name", "link", "expires_at", "batch_id")


def claim_link(config: Config, token: str, *, kind: str, link_style: str,
               person: dict | None = None) -> str:
    """Build the link for one claim token.

    Parameters
    ----------
    config : Config
        Supplies the Hub URL, client ID, redirect URI and claim endpoint.
    token : str
        The plain claim token.
    kind : {"person", "organization"}
    link_style : {"hub", "app"}
        ``hub``: the Zaikio authorize URL with the token as ``state`` and a PKCE
        challenge derived from it. ``app``: the kit's claim endpoint.
    person : dict, optional
        ``first_name``, ``last_name``, ``email`` and ``locale`` to prefill a new
        Zaikio account (hub style only; the app style prefills at its endpoint).
    """
    if link_style == "app":
        return f"{config.claims.base_url}/claims/{token}"

    verifier = derive_verifier(token)
    person = person or {}
    return build_authorize_url(
        config.hub.url, _client_id(config), _redirect_uri(config),
        [PERSON_SCOPE] if kind == "person" else list(ORGANIZATION_SCOPES), token,
        pkce=PkcePair(Secret(verifier), s256_challenge(verifier)),
        prefill=PersonPrefill(person.get("first_name"), person.get("last_name"), person.get("email")),
        lang=hub_language(person.get("locale")),
    )


def hub_language(locale: object) -> str:
    """Map an app locale such as ``de_DE`` to the Hub's UI language (``de`` or ``en``)."""
    return "de" if isinstance(locale, str) and locale.lower().startswith("de") else "en"


def _client_id(config: Config) -> str:
    from zaikio_ops.errors import ConfigError

    if not config.hub.client_id:
        raise ConfigError(f"{config.where('hub.client_id')}: missing. Set it in [hub] or ZAIKIO_CLIENT_ID.")
    return config.hub.client_id


def _redirect_uri(config: Config) -> str:
    from zaikio_ops.errors import ConfigError

    if not config.hub.redirect_uri:
        raise ConfigError(
            f"{config.where('hub.redirect_uri')}: missing. Set it to the claim service's callback "
            f"registered at Zaikio, e.g. {config.claims.base_url}/claims/callback."
        )
    return config.hub.redirect_uri


@dataclass
class ClaimLinks:
    """The links of one generate call, with the plain links kept out of every repr.

    Attributes
    ----------
    rows : DataFrame
        One row per link with the columns in ``LINK_COLUMNS``; ``link`` contains
        :class:`~zaikio_ops.secret.Secret` values.
    batch_ids : list of str
        The batches the call created.
    skipped : int
        Candidates left out because they already have a live link.
    dry_run : bool
        True when nothing was written and the links are placeholders.
    unmailable : int
        Candidates left out because their e-mail address is missing or malformed.
    """

    rows: pd.DataFrame
    batch_ids: list[str] = field(default_factory=list)
    skipped: int = 0
    dry_run: bool = False
    unmailable: int = 0

    def __len__(self) -> int:
        return len(self.rows)

    def masked(self) -> pd.DataFrame:
        """Return the rows with each link cut to its first characters."""
        frame = self.rows.copy()
        frame["link"] = frame["link"].map(lambda link: mask(link.reveal(), keep=24) if link else "")
        return frame

    def export(self, path: str | Path, *, settings: ExportSettings | None = None,
               mail_language: str | None = None, delimiter: str | None = None,
               bom: bool | None = None) -> Path:
        """Write the plain links to a CSV file with mode 0600.

        Parameters
        ----------
        path : path-like
            The file to write; it is replaced atomically.
        settings : ExportSettings, optional
            Delimiter and BOM defaults.
        mail_language : {"de", "en", "auto"}, optional
            Add ``mail_subject`` and ``mail_text`` columns for a mail merge, in
            German, English, or per person by locale (``auto``).
        """
        from zaikio_ops.claims.mail import mail_columns

        frame = self.rows.copy()
        frame["link"] = frame["link"].map(lambda link: link.reveal() if link else "")
        if mail_language:
            frame = pd.concat([frame, mail_columns(frame, mail_language)], axis=1)
        return write_csv(frame, path, settings=settings, delimiter=delimiter, bom=bom, private=True,
                         text_columns=("subject_id", "person_id", "batch_id"))

    def __repr__(self) -> str:
        state = "dry run" if self.dry_run else f"{len(self.batch_ids)} batch(es)"
        return f"<ClaimLinks {len(self)} link(s), {self.skipped} skipped, {state}>"

    def _repr_html_(self) -> str:
        return f"<p>{escape(repr(self))}</p>" + self.masked().head(20).to_html(index=False)
