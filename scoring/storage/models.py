"""The tables of ReviewDesk, covering the whole of SPEC.md.

Integrity lives in the database itself, not only in Python: unique keys (campaign + code,
sheet + criterion, reviewer + entry), foreign keys, and CHECK constraints on every range and
enumeration, so that a bug or a hand-edited row cannot produce an impossible state.
Timestamps are timezone-aware UTC (``utcnow``); pages convert them for display.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, MetaData, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# Named constraints make alembic's batch migrations on SQLite reliable.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata

ROLES = ("organiser", "expert", "media")
PANEL_ROLES = ("expert", "media")
GROUPINGS = ("category", "domain", "category_domain", "all")
ENTRY_STATUSES = ("submitted", "accepted", "rejected", "shortlisted")
ENTRY_KINDS = ("case", "person")
PUBLIC_FIELDS = ("code", "applicant", "recommender", "category", "domain", "summary")
"""Entry fields a campaign may show the public besides the title and images (SPEC §8)."""
DEFAULT_PUBLIC_FIELDS = ("code", "applicant", "category", "domain", "summary")


def utcnow() -> datetime:
    """Aware UTC now: the one clock every row uses."""
    return datetime.now(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Campaign(SQLModel, table=True):
    """One award selection with its method settings (SPEC §2.1, §5.1)."""

    __table_args__ = (
        CheckConstraint(_in("vote_group", GROUPINGS), name="vote_group"),
        CheckConstraint(_in("rank_group", GROUPINGS), name="rank_group"),
        CheckConstraint("award_quota >= 0", name="award_quota"),
        CheckConstraint("min_images >= 0", name="min_images"),
        CheckConstraint("max_entries_per_applicant_per_domain >= 1", name="max_per_applicant"),
        CheckConstraint("year BETWEEN 1900 AND 2999", name="year"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    year: int
    vote_group: str = Field(default="category", max_length=20)
    rank_group: str = Field(default="category_domain", max_length=20)
    tie_break: list[str] = Field(
        default_factory=lambda: ["expert", "media", "votes"], sa_column=Column(JSON, nullable=False)
    )
    award_quota: int = 3
    min_images: int = 4
    max_entries_per_applicant_per_domain: int = 2
    blind_review: bool = False
    public_gallery: bool = False
    public_fields: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PUBLIC_FIELDS), sa_column=Column(JSON, nullable=False)
    )
    vote_opens_at: datetime | None = None
    """Public voting (SPEC §8) runs from ``vote_opens_at`` up to, not including, the close."""
    vote_closes_at: datetime | None = None
    notice_snapshot_id: int | None = None
    """The snapshot whose results notice (结果公示) is public; shown only while it is in force."""
    notice_published_at: datetime | None = None
    intake_opens_on: str | None = Field(default=None, max_length=10)
    intake_closes_on: str | None = Field(default=None, max_length=10)
    review_opens_on: str | None = Field(default=None, max_length=10)
    review_closes_on: str | None = Field(default=None, max_length=10)
    announce_on: str | None = Field(default=None, max_length=10)
    comment_at_extremes: bool = False
    """A score in the top or bottom tenth of a criterion's range needs that criterion's comment."""
    finalised_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Category(SQLModel, table=True):
    """A category (类别) of a campaign."""

    __table_args__ = (UniqueConstraint("campaign_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    name: str = Field(max_length=100)
    position: int = 0


class Domain(SQLModel, table=True):
    """A domain (领域) of a campaign."""

    __table_args__ = (UniqueConstraint("campaign_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    name: str = Field(max_length=100)
    position: int = 0


class Component(SQLModel, table=True):
    """A score component: public votes or a reviewer panel, with its weight and method."""

    __table_args__ = (
        UniqueConstraint("campaign_id", "key"),
        CheckConstraint(_in("kind", ("votes", "panel")), name="kind"),
        CheckConstraint("weight >= 0 AND weight <= 100", name="weight"),
        CheckConstraint(_in("aggregate", ("mean", "trimmed", "median")), name="aggregate"),
        CheckConstraint(_in("normalise", ("none", "zscore")), name="normalise"),
        CheckConstraint("trim >= 0", name="trim"),
        CheckConstraint("min_reviews >= 0", name="min_reviews"),
        CheckConstraint(f"kind = 'votes' OR {_in('key', PANEL_ROLES)}", name="panel_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    key: str = Field(max_length=40)
    kind: str = Field(max_length=10)
    weight: float
    aggregate: str = Field(default="mean", max_length=10)
    trim: int = 1
    normalise: str = Field(default="none", max_length=10)
    min_reviews: int = 3
    position: int = 0
    locked: bool = False
    lock_reason: str | None = Field(default=None, sa_column=Column(Text))
    locked_at: datetime | None = None


class Criterion(SQLModel, table=True):
    """One rubric criterion of a panel component."""

    __table_args__ = (
        UniqueConstraint("component_id", "key"),
        CheckConstraint("max_points > 0", name="max_points"),
        CheckConstraint("step > 0", name="step"),
    )

    id: int | None = Field(default=None, primary_key=True)
    component_id: int = Field(foreign_key="component.id", index=True)
    key: str = Field(max_length=40)
    name: str = Field(max_length=100)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    max_points: float
    step: float = 1.0
    position: int = 0
    levels: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """Level descriptors shown beside the input: ``{"label", "low", "high"}``, best first."""


class GroupQuota(SQLModel, table=True):
    """A ranking group's own award quota, overriding the campaign default."""

    __tablename__ = "group_quota"

    __table_args__ = (
        UniqueConstraint("campaign_id", "group_label"),
        CheckConstraint("quota >= 0", name="quota"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    group_label: str = Field(max_length=220)
    quota: int
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class ApplicantLink(SQLModel, table=True):
    """Counts a branch as its parent group for the per-applicant limit (SPEC §2.3)."""

    __tablename__ = "applicant_link"

    __table_args__ = (UniqueConstraint("campaign_id", "applicant"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    applicant: str = Field(max_length=200)
    counts_as: str = Field(max_length=200)


class Account(SQLModel, table=True):
    """A person who logs in. Named ``account`` because ``user`` is reserved in PostgreSQL."""

    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        CheckConstraint("failed_logins >= 0", name="failed_logins"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=40, unique=True, index=True)
    display_name: str = Field(max_length=100)
    email: str = Field(default="", max_length=200)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=100)
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = None
    must_change_password: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Entry(SQLModel, table=True):
    """A case or a person entered in a campaign."""

    __table_args__ = (
        UniqueConstraint("campaign_id", "code"),
        CheckConstraint(_in("kind", ENTRY_KINDS), name="kind"),
        CheckConstraint(_in("status", ENTRY_STATUSES), name="status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    code: str = Field(max_length=40)
    title: str = Field(max_length=300)
    kind: str = Field(default="case", max_length=10)
    applicant: str = Field(max_length=200)
    recommender: str = Field(default="", max_length=200)
    category_id: int = Field(foreign_key="category.id", index=True)
    domain_id: int = Field(foreign_key="domain.id", index=True)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    status: str = Field(default="submitted", max_length=20)
    status_reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)


class EntryAsset(SQLModel, table=True):
    """An image or material file of an entry, stored by content hash under the data folder."""

    __tablename__ = "entry_asset"

    __table_args__ = (
        UniqueConstraint("entry_id", "role", "position"),
        CheckConstraint(_in("role", ("image", "material")), name="role"),
        CheckConstraint("size_bytes >= 0", name="size"),
        CheckConstraint("length(sha256) = 64", name="sha256"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="entry.id", index=True)
    role: str = Field(max_length=10)
    position: int = 0
    filename: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    mime: str = Field(max_length=120)
    size_bytes: int


class VoteTally(SQLModel, table=True):
    """The ``votes`` component of an entry: an imported figure plus the public votes counted since.

    ``imported`` is the tally last imported from another platform (or the entries workbook),
    ``None`` when there was none; ``counted`` the public-gallery votes counted after it (an
    import replaces them, a void takes them out). ``votes`` is their sum, kept in the row so
    that the standings read one number; the database checks the sum.
    """

    __tablename__ = "vote_tally"

    __table_args__ = (
        CheckConstraint("votes >= 0", name="votes"),
        CheckConstraint("counted >= 0", name="counted"),
        CheckConstraint("imported IS NULL OR imported >= 0", name="imported"),
        CheckConstraint("votes = COALESCE(imported, 0) + counted", name="sum"),
    )

    entry_id: int = Field(foreign_key="entry.id", primary_key=True)
    votes: int = 0
    imported: int | None = None
    counted: int = 0
    updated_at: datetime = Field(default_factory=utcnow)

    @classmethod
    def of_import(cls, entry_id: int, votes: int) -> VoteTally:
        """A tally as an import sets it: the imported figure, no public vote counted on top."""
        return cls(entry_id=entry_id, votes=votes, imported=votes, counted=0)

    def replace_by_import(self, votes: int) -> None:
        """An import replaces the figure and the public votes counted so far (SPEC §5.3)."""
        self.votes, self.imported, self.counted, self.updated_at = votes, votes, 0, utcnow()


class PublicVote(SQLModel, table=True):
    """One public-gallery vote: one per client per campaign per day (SPEC §8).

    ``client_key`` and ``network_key`` are keyed hashes (HMAC-SHA256) of the client's IP and
    of its network (/24 for IPv4, /48 for IPv6): the IP itself is never stored. ``counted``
    is false once the vote was voided (``void_id``) or replaced by an imported tally.
    """

    __tablename__ = "public_vote"

    __table_args__ = (
        UniqueConstraint("campaign_id", "client_key", "day"),
        Index("ix_public_vote_campaign_entry_cast", "campaign_id", "entry_id", "cast_at"),
        # The vote watch groups an entry's votes by network: read from the index alone.
        Index(
            "ix_public_vote_campaign_entry_network",
            "campaign_id",
            "entry_id",
            "network_key",
            "cast_at",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    entry_id: int = Field(foreign_key="entry.id", index=True)
    client_key: str = Field(max_length=64)
    network_key: str = Field(default="", max_length=64)
    day: str = Field(max_length=10)
    cast_at: datetime = Field(default_factory=utcnow)
    counted: bool = True
    void_id: int | None = Field(default=None, foreign_key="vote_void.id")


class VoteVoid(SQLModel, table=True):
    """Votes an organiser voided as ballot stuffing (刷票): which, why, by whom (SPEC §8)."""

    __tablename__ = "vote_void"

    __table_args__ = (CheckConstraint("votes >= 0", name="votes"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    entry_id: int = Field(foreign_key="entry.id", index=True)
    network_key: str = Field(max_length=64)
    window_start: datetime
    window_end: datetime
    votes: int
    reason: str = Field(sa_column=Column(Text, nullable=False))
    actor: str = Field(max_length=60)
    at: datetime = Field(default_factory=utcnow)


class Assignment(SQLModel, table=True):
    """A reviewer is asked to score an entry."""

    __table_args__ = (UniqueConstraint("reviewer_id", "entry_id"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="entry.id", index=True)
    reviewer_id: int = Field(foreign_key="account.id", index=True)
    assigned_at: datetime = Field(default_factory=utcnow)


class ConflictDeclaration(SQLModel, table=True):
    """A reviewer's declared conflict of interest: never assigned, never counted."""

    __tablename__ = "conflict_declaration"

    __table_args__ = (UniqueConstraint("reviewer_id", "entry_id"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="entry.id", index=True)
    reviewer_id: int = Field(foreign_key="account.id", index=True)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    declared_at: datetime = Field(default_factory=utcnow)


class ScoreSheet(SQLModel, table=True):
    """A reviewer's rubric sheet for one entry; only submitted, complete sheets count.

    ``version`` grows with every save so that a stale browser tab is told, not overwritten.
    """

    __tablename__ = "score_sheet"

    __table_args__ = (
        UniqueConstraint("reviewer_id", "entry_id"),
        CheckConstraint(_in("status", ("draft", "submitted")), name="status"),
        CheckConstraint(_in("panel", PANEL_ROLES), name="panel"),
        CheckConstraint("version >= 1", name="version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="entry.id", index=True)
    reviewer_id: int = Field(foreign_key="account.id", index=True)
    panel: str = Field(max_length=20)
    status: str = Field(default="draft", max_length=10)
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    version: int = 1
    submitted_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow, index=True)


class Score(SQLModel, table=True):
    """One criterion's points on a sheet."""

    __table_args__ = (
        UniqueConstraint("sheet_id", "criterion_id"),
        CheckConstraint("points >= 0", name="points"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sheet_id: int = Field(foreign_key="score_sheet.id", index=True)
    criterion_id: int = Field(foreign_key="criterion.id", index=True)
    points: float
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class AwardDecision(SQLModel, table=True):
    """An organiser's decision on an award: a cut-line tie resolved, or a committee override.

    Overrides are shown as overrides everywhere; nothing is changed silently.
    """

    __tablename__ = "award_decision"

    __table_args__ = (
        UniqueConstraint("entry_id", "kind"),
        CheckConstraint(_in("kind", ("tie", "override")), name="kind"),
        CheckConstraint("length(reason) > 0", name="reason"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    entry_id: int = Field(foreign_key="entry.id", index=True)
    kind: str = Field(max_length=10)
    award: bool
    reason: str = Field(sa_column=Column(Text, nullable=False))
    decided_by: str = Field(max_length=40)
    decided_at: datetime = Field(default_factory=utcnow)


class MeetingRound(SQLModel, table=True):
    """A review-meeting discussion round opened for one entry (SPEC §2.6)."""

    __tablename__ = "meeting_round"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="entry.id", index=True)
    opened_by: str = Field(max_length=40)
    opened_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None


class FinalSnapshot(SQLModel, table=True):
    """Frozen standings of a finalised campaign, with a SHA-256 over the canonical JSON."""

    __tablename__ = "final_snapshot"

    __table_args__ = (CheckConstraint("length(sha256) = 64", name="sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    content: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(max_length=64)
    created_by: str = Field(max_length=40)
    created_at: datetime = Field(default_factory=utcnow)
    withdrawn_at: datetime | None = None
    withdrawn_reason: str | None = Field(default=None, sa_column=Column(Text))


class AuditEvent(SQLModel, table=True):
    """Append-only, hash-chained record of every change: who, when, what, old and new value.

    Each row carries ``content_hash``, the SHA-256 of its canonical content, computed as it
    is inserted (no read of other rows, so concurrent saves do not contend). Chaining is done
    later, in commit order, by ``seal``: the next ``chain_seq`` and ``chain_hash =
    sha256(previous chain hash, position, id, content hash)``. Triggers (migration 0002)
    refuse UPDATE, DELETE, REPLACE and TRUNCATE, except that one step of sealing; a rewrite
    made around them breaks the chain, which ``reviewdesk audit-check`` reports.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_campaign_at", "campaign_id", "at"),
        # Serves the head (largest position) and the unsealed rows (NULL) alike.
        Index("ix_audit_log_chain_seq", "chain_seq", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=60)
    campaign_id: int | None = Field(default=None)
    action: str = Field(max_length=60, index=True)
    target: str = Field(default="", max_length=200)
    old_value: Any = Field(default=None, sa_column=Column(JSON))
    new_value: Any = Field(default=None, sa_column=Column(JSON))
    content_hash: str | None = Field(
        default=None,
        max_length=64,
        nullable=False,
        # A column default sees the row as inserted, whoever inserts it (ORM or Core).
        sa_column_kwargs={"default": lambda context: AuditEvent.digest_of_insert(context)},
    )
    chain_seq: int | None = Field(default=None)
    """Position in the chain, 1, 2, 3 ... in commit order; NULL until sealed."""
    chain_hash: str | None = Field(default=None, max_length=64)

    @staticmethod
    def content_digest(
        at: datetime,
        actor: str,
        campaign_id: int | None,
        action: str,
        target: str,
        old_value: Any,
        new_value: Any,
    ) -> str:
        """SHA-256 of the event's content in one canonical JSON form.

        Values go through a JSON round trip first so that what is hashed on insert equals
        what is read back later (tuples become lists, keys strings); the time is UTC with
        microseconds, which both databases keep.
        """
        import hashlib
        import json

        def plain(value: Any) -> Any:
            return json.loads(json.dumps(value))

        when = at if at.utcoffset() is not None else at.replace(tzinfo=UTC)
        canonical = json.dumps(
            {
                "at": when.astimezone(UTC).isoformat(timespec="microseconds"),
                "actor": actor,
                "campaign_id": campaign_id,
                "action": action,
                "target": target,
                "old": plain(old_value),
                "new": plain(new_value),
            },
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @staticmethod
    def digest_of_insert(context: Any) -> str:
        """The column default of ``content_hash``: the digest of the parameters inserted."""
        row = context.get_current_parameters()
        return AuditEvent.content_digest(
            row["at"],
            row["actor"],
            row.get("campaign_id"),
            row["action"],
            row.get("target", ""),
            row.get("old_value"),
            row.get("new_value"),
        )

    @staticmethod
    def chain_digest(previous: str, seq: int, event_id: int, content_hash: str) -> str:
        """The chain hash at position ``seq``: binds the event, its place and all before it."""
        import hashlib

        return hashlib.sha256(f"{previous}:{seq}:{event_id}:{content_hash}".encode()).hexdigest()

    @staticmethod
    def genesis() -> str:
        """The "previous chain hash" of the first event."""
        return "0" * 64

    @staticmethod
    def seal(connection: Any, *, wait: bool = True, durable: bool = True) -> int | None:
        """Chain every unsealed event, in id order, after the current head; how many.

        Runs on ``connection`` in its transaction. On PostgreSQL that must be a short READ
        COMMITTED transaction of its own, after the writers committed: an advisory lock
        makes sealers take turns (the chain head is read and extended only under it), and
        each statement after it sees every committed event. With ``wait=False`` a sealer
        that finds the turn taken returns None at once: whoever holds it looks again after
        its commit (``Database.seal_audit``). ``durable=False`` commits the seal without
        waiting for the disk (``synchronous_commit`` off for this transaction). On SQLite the
        caller's write lock already serialises everything.
        """
        from sqlalchemy import text

        if connection.dialect.name == "postgresql":
            # One statement looks for an unsealed event and, only when it finds one, takes
            # the turn (and sets the commit's durability): a seal after every save, mostly
            # finding nothing left, costs one round trip, and no lock when there is nothing.
            lock = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
            lazy = "" if durable else ", set_config('synchronous_commit', 'off', true)"
            turn = connection.execute(
                text(
                    f"SELECT {lock}(:key)::text{lazy} "
                    "FROM audit_log WHERE chain_seq IS NULL LIMIT 1"
                ),
                {"key": 0x52455641},
            ).first()
            if turn is None:
                return 0  # nothing to do: no lock taken
            if turn[0] == "false":
                return None
        head = connection.execute(
            text(
                "SELECT chain_seq, chain_hash FROM audit_log WHERE chain_seq IS NOT NULL "
                "ORDER BY chain_seq DESC LIMIT 1"
            )
        ).first()
        pending = connection.execute(
            text("SELECT id, content_hash FROM audit_log WHERE chain_seq IS NULL ORDER BY id")
        ).all()
        seq, previous = (head[0], head[1]) if head else (0, AuditEvent.genesis())
        updates = []
        for event_id, content_hash in pending:
            seq += 1
            previous = AuditEvent.chain_digest(previous, seq, event_id, content_hash)
            updates.append({"id": event_id, "seq": seq, "hash": previous})
        if updates:
            connection.execute(
                text(
                    "UPDATE audit_log SET chain_seq = :seq, chain_hash = :hash "
                    "WHERE id = :id AND chain_seq IS NULL"
                ),
                updates,
            )
        return len(updates)
