"""The audit of unmapped accounts: who still needs a Zaikio account, and what blocks them.

:func:`run_audit` counts mapped and unmapped persons and organizations, works out
how far each organization has come, and lists findings that a support team has
to resolve before or during the migration. Counting and grouping happen in SQL;
only e-mail addresses (for normalized duplicate detection) and the unmapped
persons (for the export) are fetched, in chunks.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pandas as pd
import sqlalchemy as sa
from tqdm.auto import tqdm

from zaikio_ops.config import Config
from zaikio_ops.source import Source, normalize_frame

logger = logging.getLogger(__name__)

FINDING_KINDS = (
    "duplicate_email",
    "missing_email",
    "malformed_email",
    "person_without_organization",
    "organization_without_owner",
    "organization_owner_unmapped",
    "zaikio_person_id_shared",
    "zaikio_organization_id_shared",
    "inactive_person",
)
FINDING_COLUMNS = ("kind", "subject_type", "subject_id", "detail")

# Buckets of the time since the last login, as (label, upper bound in days).
LOGIN_BUCKETS = (
    ("under 30 days", 30),
    ("30-90 days", 90),
    ("90-365 days", 365),
    ("1-3 years", 3 * 365),
    ("over 3 years", None),
)
NEVER_LOGGED_IN = "never"

# One "@", a non-empty local part, a dotted domain, no whitespace.
_EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class AuditResult:
    """What one audit found.

    Attributes
    ----------
    summary : dict
        Headline counts (``persons_total``, ``persons_unmapped``, ...).
    organizations : DataFrame
        One row per organization with members, mapped members, owners and completion.
    unmapped_persons : DataFrame
        Persons without a Zaikio UUID, with the number of organizations they belong to.
    findings : DataFrame
        One row per finding: ``kind``, ``subject_type``, ``subject_id``, ``detail``.
    last_login : DataFrame
        Mapped and unmapped persons per time since their last login.
    generated_at : datetime
        When the audit ran (UTC).
    """

    summary: dict[str, int]
    organizations: pd.DataFrame
    unmapped_persons: pd.DataFrame
    findings: pd.DataFrame
    last_login: pd.DataFrame
    generated_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def finding_counts(self) -> dict[str, int]:
        """Return the number of findings of every kind, zero for kinds with none."""
        counts = self.findings["kind"].value_counts()
        return {kind: int(counts.get(kind, 0)) for kind in FINDING_KINDS}

    def summary_frame(self) -> pd.DataFrame:
        """Return the summary and the finding counts as a two-column table."""
        rows = list(self.summary.items())
        rows += [(f"findings.{kind}", count) for kind, count in self.finding_counts().items()]
        return pd.DataFrame(rows, columns=["metric", "value"])


def run_audit(source: Source | Config, *, chunksize: int = 50_000, progress: bool = False,
              now: datetime | None = None) -> AuditResult:
    """Audit the app's accounts.

    Parameters
    ----------
    source : Source or Config
        Where the app's data comes from.
    chunksize : int
        Rows fetched per round trip when rows are read.
    progress : bool
        Show a progress bar while persons are read.
    now : datetime, optional
        The reference time for last-login buckets (UTC); defaults to the current time.

    Returns
    -------
    AuditResult
    """
    if isinstance(source, Config):
        source = Source(source)
    source.check()
    now = (now or datetime.now(timezone.utc)).replace(tzinfo=None)
    owner_roles = list(source.config.owner_roles)
    logger.info("Auditing %s", source)

    organizations = _organization_table(source, owner_roles)
    persons = _scan_persons(source, chunksize, progress, now)
    findings = pd.concat(
        [
            persons.findings,
            _persons_without_organization(source),
            _organization_findings(organizations),
            _shared_zaikio_ids(source, "persons", "zaikio_person_id", "person_id"),
            _shared_zaikio_ids(source, "organizations", "zaikio_organization_id", "organization_id"),
        ],
        ignore_index=True,
    )
    summary = {
        **persons.counts,
        "organizations_total": len(organizations),
        "organizations_mapped": int(organizations["mapped"].sum()),
        "organizations_unmapped": int((~organizations["mapped"]).sum()),
        "organizations_claimable": int(organizations["claimable"].sum()),
        "memberships_total": _count(source, "memberships"),
    }
    logger.info("Audit done: %d of %d persons unmapped, %d findings",
                summary["persons_unmapped"], summary["persons_total"], len(findings))
    return AuditResult(summary=summary, organizations=organizations,
                       unmapped_persons=persons.unmapped, findings=_sorted(findings),
                       last_login=persons.last_login)


def normalize_email(address: object) -> str | None:
    """Return the comparison form of an e-mail address: trimmed, NFC, casefolded.

    Returns ``None`` for a missing or blank address.
    """
    if address is None or (isinstance(address, float) and pd.isna(address)) or address is pd.NA:
        return None
    text = unicodedata.normalize("NFC", str(address)).strip().casefold()
    return text or None


def is_malformed_email(normalized: str) -> bool:
    """Tell whether a non-blank, normalized address cannot be a deliverable e-mail address."""
    return _EMAIL_PATTERN.match(normalized) is None


def _organization_table(source: Source, owner_roles: list[str]) -> pd.DataFrame:
    organizations = source.selectable("organizations")
    memberships = source.selectable("memberships")
    persons = source.selectable("persons")

    is_owner = memberships.c.role.in_(owner_roles)
    is_mapped = persons.c.zaikio_person_id.is_not(None)
    member = memberships.c.person_id

    def distinct_members(condition):
        return sa.func.count(sa.distinct(sa.case((condition, member))))

    statement = (
        sa.select(
            organizations.c.organization_id,
            organizations.c.name,
            organizations.c.zaikio_organization_id,
            sa.func.count(sa.distinct(member)).label("members"),
            distinct_members(is_mapped).label("mapped_members"),
            distinct_members(is_owner).label("owners"),
            distinct_members(sa.and_(is_owner, is_mapped)).label("mapped_owners"),
        )
        .select_from(organizations)
        .outerjoin(memberships, memberships.c.organization_id == organizations.c.organization_id)
        .outerjoin(persons, persons.c.person_id == memberships.c.person_id)
        .group_by(organizations.c.organization_id, organizations.c.name,
                  organizations.c.zaikio_organization_id)
    )
    with source.engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(statement).all(),
                             columns=["organization_id", "name", "zaikio_organization_id", "members",
                                      "mapped_members", "owners", "mapped_owners"])

    frame = normalize_frame(frame)
    for name in ("members", "mapped_members", "owners", "mapped_owners"):
        frame[name] = frame[name].astype("int64")
    frame["mapped"] = frame["zaikio_organization_id"].notna()
    frame["completion"] = (frame["mapped_members"] / frame["members"].where(frame["members"] > 0)).fillna(0.0)
    frame["claimable"] = ~frame["mapped"] & (frame["mapped_owners"] > 0)
    return frame.sort_values("organization_id", key=_natural_key, ignore_index=True)


@dataclass
class _PersonScan:
    counts: dict[str, int]
    unmapped: pd.DataFrame
    findings: pd.DataFrame
    last_login: pd.DataFrame


def _scan_persons(source: Source, chunksize: int, progress: bool, now: datetime) -> _PersonScan:
    """Read persons once in chunks and collect counts, e-mail findings and login buckets."""
    columns = ["person_id", "email", "first_name", "last_name", "locale", "active",
               "last_login_at", "zaikio_person_id"]
    total = _count(source, "persons")
    counts = {"persons_total": 0, "persons_mapped": 0, "persons_unmapped": 0,
              "persons_active_unmapped": 0}
    emails, unmapped, findings, buckets = [], [], [], []

    chunks = source.iter_chunks("persons", columns=columns, chunksize=chunksize)
    with tqdm(total=total, unit="persons", desc="Reading persons", disable=not progress) as bar:
        for chunk in chunks:
            mapped = chunk["zaikio_person_id"].notna()
            counts["persons_total"] += len(chunk)
            counts["persons_mapped"] += int(mapped.sum())
            counts["persons_unmapped"] += int((~mapped).sum())
            counts["persons_active_unmapped"] += int((~mapped & chunk["active"]).sum())

            normalized = chunk["email"].map(normalize_email)
            emails.append(pd.DataFrame({"person_id": chunk["person_id"], "email": normalized}))
            findings.append(_email_findings(chunk, normalized))
            findings.append(_inactive_findings(chunk))
            unmapped.append(chunk.loc[~mapped].drop(columns=["zaikio_person_id"]))
            buckets.append(_login_buckets(chunk, mapped, now))
            bar.update(len(chunk))

    findings.append(_duplicate_email_findings(pd.concat(emails, ignore_index=True) if emails else None))
    unmapped_frame = _with_membership_counts(source, _concat(unmapped, columns[:-1]))
    return _PersonScan(counts, unmapped_frame, _concat(findings, FINDING_COLUMNS),
                       _sum_buckets(buckets))


def _email_findings(chunk: pd.DataFrame, normalized: pd.Series) -> pd.DataFrame:
    missing = normalized.isna()
    malformed = ~missing & normalized.fillna("x@y.z").map(is_malformed_email)
    rows = [
        _findings("missing_email", "person", chunk.loc[missing, "person_id"],
                  "no e-mail address; the claim link cannot be mailed"),
        _findings("malformed_email", "person", chunk.loc[malformed, "person_id"],
                  chunk.loc[malformed, "email"].map(lambda e: f"malformed e-mail address {e!r}")),
    ]
    return pd.concat(rows, ignore_index=True)


def _inactive_findings(chunk: pd.DataFrame) -> pd.DataFrame:
    inactive = ~chunk["active"]
    return _findings("inactive_person", "person", chunk.loc[inactive, "person_id"],
                     "inactive in the app; exclude from claim batches or reactivate first")


def _duplicate_email_findings(emails: pd.DataFrame | None) -> pd.DataFrame:
    if emails is None or emails.empty:
        return _concat([], FINDING_COLUMNS)
    present = emails.dropna(subset=["email"])
    shared = present[present.duplicated("email", keep=False)]
    groups = shared.groupby("email")["person_id"].agg(list)
    details = shared["email"].map(
        lambda address: f"{address} is also used by {len(groups[address]) - 1} other person(s)"
    )
    return _findings("duplicate_email", "person", shared["person_id"], details)


def _persons_without_organization(source: Source) -> pd.DataFrame:
    persons = source.selectable("persons")
    memberships = source.selectable("memberships")
    has_membership = sa.exists().where(memberships.c.person_id == persons.c.person_id)
    statement = sa.select(persons.c.person_id).where(~has_membership)
    with source.engine.connect() as connection:
        ids = [row[0] for row in connection.execute(statement)]
    return _findings("person_without_organization", "person", _ids(ids),
                     "member of no organization; nothing to reconcile after the claim")


def _organization_findings(organizations: pd.DataFrame) -> pd.DataFrame:
    no_owner = organizations["owners"] == 0
    not_claimable = ~organizations["mapped"] & (organizations["owners"] > 0) & (
        organizations["mapped_owners"] == 0)
    return pd.concat(
        [
            _findings("organization_without_owner", "organization",
                      organizations.loc[no_owner, "organization_id"],
                      "no member has an owner role; nobody can claim it"),
            _findings("organization_owner_unmapped", "organization",
                      organizations.loc[not_claimable, "organization_id"],
                      organizations.loc[not_claimable, "owners"].map(
                          lambda n: f"none of its {n} owner(s) has claimed a Zaikio account yet")),
        ],
        ignore_index=True,
    )


def _shared_zaikio_ids(source: Source, entity: str, zaikio_column: str, id_column: str) -> pd.DataFrame:
    rows = source.selectable(entity)
    shared = (
        sa.select(rows.c[zaikio_column])
        .where(rows.c[zaikio_column].is_not(None))
        .group_by(rows.c[zaikio_column])
        .having(sa.func.count() > 1)
    )
    statement = sa.select(rows.c[id_column], rows.c[zaikio_column]).where(rows.c[zaikio_column].in_(shared))
    with source.engine.connect() as connection:
        frame = normalize_frame(pd.DataFrame(connection.execute(statement).all(),
                                             columns=[id_column, zaikio_column]))
    subject = entity.rstrip("s")
    details = frame[zaikio_column].map(lambda uuid: f"Zaikio UUID {uuid} is mapped to several {entity}")
    return _findings(f"{zaikio_column}_shared", subject, frame[id_column], details)


def _with_membership_counts(source: Source, unmapped: pd.DataFrame) -> pd.DataFrame:
    memberships = source.selectable("memberships")
    statement = sa.select(
        memberships.c.person_id,
        sa.func.count(sa.distinct(memberships.c.organization_id)).label("organizations"),
    ).group_by(memberships.c.person_id)
    with source.engine.connect() as connection:
        counts = normalize_frame(pd.DataFrame(connection.execute(statement).all(),
                                              columns=["person_id", "organizations"]))
    merged = unmapped.merge(counts, on="person_id", how="left")
    merged["organizations"] = merged["organizations"].fillna(0).astype("int64")
    return merged.sort_values("person_id", key=_natural_key, ignore_index=True)


def _login_buckets(chunk: pd.DataFrame, mapped: pd.Series, now: datetime) -> pd.DataFrame:
    age_days = (now - chunk["last_login_at"]).dt.days
    labels = pd.Series(NEVER_LOGGED_IN, index=chunk.index, dtype="object")
    lower = -10**9
    for label, upper in LOGIN_BUCKETS:
        in_bucket = age_days.notna() & (age_days >= lower)
        if upper is not None:
            in_bucket &= age_days < upper
        labels[in_bucket] = label
        lower = upper if upper is not None else lower
    frame = pd.DataFrame({"bucket": labels, "mapped": mapped.astype(int), "unmapped": (~mapped).astype(int)})
    return frame.groupby("bucket")[["mapped", "unmapped"]].sum()


def _sum_buckets(buckets: list[pd.DataFrame]) -> pd.DataFrame:
    order = [label for label, _ in LOGIN_BUCKETS] + [NEVER_LOGGED_IN]
    total = pd.concat(buckets).groupby(level=0).sum() if buckets else pd.DataFrame(
        columns=["mapped", "unmapped"])
    total = total.reindex(order, fill_value=0).astype("int64")
    total.index.name = "bucket"
    return total.reset_index()


def _count(source: Source, entity: str) -> int:
    statement = sa.select(sa.func.count()).select_from(source.selectable(entity))
    with source.engine.connect() as connection:
        return int(connection.execute(statement).scalar_one())


def _findings(kind: str, subject_type: str, ids, detail) -> pd.DataFrame:
    ids = pd.Series(ids, dtype="string").reset_index(drop=True)
    if isinstance(detail, pd.Series):
        detail = detail.reset_index(drop=True).astype("string")
    return pd.DataFrame({"kind": kind, "subject_type": subject_type, "subject_id": ids,
                         "detail": detail}, columns=list(FINDING_COLUMNS))


def _ids(values: list) -> pd.Series:
    return normalize_frame(pd.DataFrame({"person_id": values}))["person_id"]


def _concat(frames: list[pd.DataFrame], columns) -> pd.DataFrame:
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=list(columns))
    return pd.concat(frames, ignore_index=True)


def _sorted(findings: pd.DataFrame) -> pd.DataFrame:
    order = {kind: index for index, kind in enumerate(FINDING_KINDS)}
    findings = findings.assign(_order=findings["kind"].map(order))
    findings = findings.sort_values(["_order", "subject_id"], key=_sort_key, ignore_index=True)
    return findings.drop(columns="_order")


def _sort_key(series: pd.Series) -> pd.Series:
    return series if series.name == "_order" else _natural_key(series)


def _natural_key(series: pd.Series) -> pd.Series:
    """Sort numeric identifiers by value and the others as text."""
    numbers = pd.to_numeric(series, errors="coerce")
    if numbers.notna().all():
        return numbers
    return series.astype("string")
