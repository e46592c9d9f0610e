"""The tables: sites, people, goals with their totals, the donation ledger and the Stripe inbox."""

from __future__ import annotations

import enum
import hashlib
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from donate.extensions import Model
from donate.money import percent_raised


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC, the only kind of time we store."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Store UTC and hand back aware datetimes on SQLite and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def str_enum(enum_cls: type[enum.StrEnum], name: str) -> sa.Enum:
    """A VARCHAR with a CHECK constraint: SQLite enforces it too, and migrations stay simple."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


Money = sa.BigInteger  # minor units; 64-bit on every database


class Role(enum.StrEnum):
    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"


class GoalStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    CLOSED = "closed"


class DonationKind(enum.StrEnum):
    ONE_TIME = "one_time"
    MONTHLY = "monthly"
    OFFLINE = "offline"
    DEMO = "demo"


class DonationState(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    VOIDED = "voided"


class RefundStatus(enum.StrEnum):
    # Ours: asked for from the dashboard, Stripe's answer not known yet (the amount is reserved).
    REQUESTED = "requested"
    # Ours: Stripe refused the request or has no record of it; nothing was refunded.
    REFUSED = "refused"
    # Stripe's.
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class DisputeStatus(enum.StrEnum):
    WARNING_NEEDS_RESPONSE = "warning_needs_response"
    WARNING_UNDER_REVIEW = "warning_under_review"
    WARNING_CLOSED = "warning_closed"
    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"
    WON = "won"
    LOST = "lost"
    APPEAL_NEEDS_RESPONSE = "appeal_needs_response"
    APPEAL_UNDER_REVIEW = "appeal_under_review"
    PREVENTED = "prevented"


class SubscriptionStatus(enum.StrEnum):
    """Stripe's eight subscription statuses, exactly as its API spells them."""

    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    UNPAID = "unpaid"
    PAUSED = "paused"


class EventStatus(enum.StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"
    PARKED = "parked"
    IGNORED = "ignored"


class Site(Model):
    """An organisation's website: where its widgets may be embedded and how money is shown."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    allowed_origins: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    default_currency: Mapped[str] = mapped_column(sa.String(3), default="USD")
    default_locale: Mapped[str] = mapped_column(sa.String(16), default="en")
    time_zone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    brand_colour: Mapped[str] = mapped_column(sa.String(7), default="#1d4ed8")
    # The site's own front page, linked from the goal page; http(s) only (donate.site_links).
    home_url: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Receipts: off until the owner turns them on; the organisation's own words go on each one.
    receipts_enabled: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    receipt_organisation: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    receipt_address: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    receipt_tax_note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")

    goals: Mapped[list[Goal]] = relationship(back_populates="site")
    memberships: Mapped[list[Membership]] = relationship(back_populates="site")

    __table_args__ = (
        sa.CheckConstraint("length(default_currency) = 3", name="currency_code"),
        sa.CheckConstraint("length(brand_colour) = 7", name="brand_colour_hex"),
    )


class User(Model):
    """A person who signs in to the dashboard."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Raised by every sign-out: it is part of the login id, so each device's cookie stops working.
    session_epoch: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    # Runs the instance (granted by `donate grant-operator`): sees Stripe's health for all sites.
    is_operator: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")

    # Flask-Login's user protocol.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """The login id, bound to the password and the sign-out epoch: either change ends it."""
        return f"{self.id}-{self.session_binding}"

    @property
    def session_binding(self) -> str:
        """What a session's login id must carry after the user id to still be valid."""
        return f"{self.password_fingerprint}-{self.session_epoch}"

    @property
    def password_fingerprint(self) -> str:
        """A short digest of the password hash (never the hash itself) for session binding."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]


class Membership(Model):
    """A user's role on one site: every dashboard query is scoped through these rows."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))

    user: Mapped[User] = relationship(back_populates="memberships")
    site: Mapped[Site] = relationship(back_populates="memberships")

    __table_args__ = (sa.UniqueConstraint("user_id", "site_id", name="uq_memberships_user_site"),)


class Goal(Model):
    """A fundraising goal and its running totals; reading a total is reading this one row."""

    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="RESTRICT"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    currency: Mapped[str] = mapped_column(sa.String(3))
    target_minor: Mapped[int] = mapped_column(Money)
    presets_minor: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    minimum_minor: Mapped[int] = mapped_column(Money)
    maximum_minor: Mapped[int | None] = mapped_column(Money)
    monthly_enabled: Mapped[bool] = mapped_column(default=False)
    # Cover the fees: the owner's rule, a percentage in hundredths of a percent plus a fixed part
    # in the goal's currency, from which donate.fee_cover grosses up the offer to a donor.
    fee_cover_enabled: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    fee_cover_basis_points: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    fee_cover_fixed_minor: Mapped[int] = mapped_column(Money, default=0, server_default="0")
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    milestones_minor: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    # How the widget shows the goal (donate/widget/settings.py reads these as WidgetSettings).
    # Language code -> call to action; "" is the default for every other language, {} ours.
    call_to_action: Mapped[dict[str, str]] = mapped_column(
        sa.JSON, default=dict, server_default="{}"
    )
    show_donor_count: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    show_percent: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # Donor count and percentage stay hidden until the raised percentage reaches this.
    hide_figures_below_percent: Mapped[int] = mapped_column(
        sa.Integer, default=0, server_default="0"
    )
    default_preset_minor: Mapped[int | None] = mapped_column(Money)
    monthly_presets_minor: Mapped[list[int]] = mapped_column(
        sa.JSON, default=list, server_default="[]"
    )
    monthly_default_minor: Mapped[int | None] = mapped_column(Money)
    # "once:2500" or "monthly:1000" -> a short line saying what that gift does.
    preset_impacts: Mapped[dict[str, str]] = mapped_column(
        sa.JSON, default=dict, server_default="{}"
    )
    status: Mapped[GoalStatus] = mapped_column(
        str_enum(GoalStatus, "goal_status"), default=GoalStatus.DRAFT
    )
    # Totals: changed only by donate.ledger, in the same transaction as the ledger rows.
    raised_minor: Mapped[int] = mapped_column(Money, default=0)
    donation_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    donor_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    # The sponsors' matches counted in raised_minor, kept here too so they can be shown apart.
    matched_minor: Mapped[int] = mapped_column(Money, default=0, server_default="0")
    totals_version: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    site: Mapped[Site] = relationship(back_populates="goals")

    __table_args__ = (
        sa.CheckConstraint("target_minor > 0", name="target_positive"),
        sa.CheckConstraint("minimum_minor > 0", name="minimum_positive"),
        sa.CheckConstraint(
            "maximum_minor IS NULL OR maximum_minor >= minimum_minor", name="maximum_above_minimum"
        ),
        sa.CheckConstraint("raised_minor >= 0", name="raised_not_negative"),
        sa.CheckConstraint("donation_count >= 0", name="donation_count_not_negative"),
        sa.CheckConstraint("donor_count >= 0", name="donor_count_not_negative"),
        sa.CheckConstraint("matched_minor >= 0", name="matched_not_negative"),
        sa.CheckConstraint("matched_minor <= raised_minor", name="matched_within_raised"),
        sa.CheckConstraint("length(currency) = 3", name="currency_code"),
        sa.CheckConstraint(
            "fee_cover_basis_points >= 0 AND fee_cover_basis_points <= 5000",
            name="fee_cover_basis_points_range",
        ),
        sa.CheckConstraint("fee_cover_fixed_minor >= 0", name="fee_cover_fixed_not_negative"),
    )

    @property
    def percent(self) -> int:
        """Whole percent of the target raised, floored, so 99.6 % never reads as reached."""
        return percent_raised(self.raised_minor, self.target_minor)


class GoalMatch(Model):
    """A sponsor's pledge to match gifts to a goal 1:1 from a pool; not a donation, not charged."""

    __tablename__ = "goal_matches"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(sa.ForeignKey("goals.id", ondelete="RESTRICT"), index=True)
    sponsor: Mapped[str] = mapped_column(sa.String(120))
    pool_minor: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    # Taken from the pool by gifts; changed only by donate.ledger, one conditional UPDATE at a time.
    used_minor: Mapped[int] = mapped_column(Money, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when an editor ends the match; a closed match neither gives to nor takes back from gifts.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("pool_minor > 0", name="pool_positive"),
        sa.CheckConstraint("used_minor >= 0 AND used_minor <= pool_minor", name="used_within_pool"),
        sa.CheckConstraint("length(currency) = 3", name="currency_code"),
        # One open match per goal: the database refuses a second, whoever asks.
        sa.Index(
            "uq_goal_matches_open_goal",
            "goal_id",
            unique=True,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        ),
    )

    @property
    def left_minor(self) -> int:
        """What the pool can still give."""
        return self.pool_minor - self.used_minor


class MatchAllocation(Model):
    """The match one gift received: recount sums these rows into the goal's matched total."""

    __tablename__ = "match_allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(
        sa.ForeignKey("goal_matches.id", ondelete="RESTRICT"), index=True
    )
    donation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("donations.id", ondelete="RESTRICT"), unique=True
    )
    # The gift's net amount and its match when it settled: what later deductions are measured by.
    basis_minor: Mapped[int] = mapped_column(Money)
    allocated_minor: Mapped[int] = mapped_column(Money)
    # The part of allocated_minor counted now (less after a refund or a lost dispute).
    matched_minor: Mapped[int] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "allocated_minor > 0 AND allocated_minor <= basis_minor", name="allocated_within_gift"
        ),
        sa.CheckConstraint(
            "matched_minor >= 0 AND matched_minor <= allocated_minor",
            name="matched_within_allocated",
        ),
    )


class Subscription(Model):
    """A monthly donor's Stripe subscription; its instalments are donations of kind monthly."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(sa.ForeignKey("goals.id", ondelete="RESTRICT"), index=True)
    stripe_subscription_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    status: Mapped[SubscriptionStatus] = mapped_column(
        str_enum(SubscriptionStatus, "subscription_status"), default=SubscriptionStatus.INCOMPLETE
    )
    amount_minor: Mapped[int] = mapped_column(Money)
    # The part of each instalment that covers fees (a second, recurring line item).
    fee_cover_minor: Mapped[int] = mapped_column(Money, default=0, server_default="0")
    currency: Mapped[str] = mapped_column(sa.String(3))
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    current_period_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint(
            "fee_cover_minor >= 0 AND fee_cover_minor <= amount_minor",
            name="fee_cover_within_amount",
        ),
    )


class Donation(Model):
    """One gift: a row of the ledger, identified by its Stripe ids, each unique."""

    __tablename__ = "donations"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(sa.ForeignKey("goals.id", ondelete="RESTRICT"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("subscriptions.id", ondelete="SET NULL"), index=True
    )
    amount_minor: Mapped[int] = mapped_column(Money)
    # Of amount_minor, what the donor added to cover fees: a record of the offer they took, kept
    # as it was when refunds or disputes take money off (those reduce kept_minor only).
    fee_cover_minor: Mapped[int] = mapped_column(Money, default=0, server_default="0")
    currency: Mapped[str] = mapped_column(sa.String(3))
    kind: Mapped[DonationKind] = mapped_column(str_enum(DonationKind, "donation_kind"))
    state: Mapped[DonationState] = mapped_column(
        str_enum(DonationState, "donation_state"), default=DonationState.PENDING
    )
    # What came off the total: succeeded refunds and lost disputes (ledger.py keeps them right).
    refunded_minor: Mapped[int] = mapped_column(Money, default=0)
    disputed_minor: Mapped[int] = mapped_column(Money, default=0)

    stripe_checkout_session_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    stripe_invoice_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(sa.String(255))

    donor_email: Mapped[str | None] = mapped_column(sa.String(320))
    # A stable, non-reversible key for "distinct donor per goal" that survives erasure.
    donor_key: Mapped[str | None] = mapped_column(sa.String(80))
    public_name: Mapped[str | None] = mapped_column(sa.String(120))
    public_message: Mapped[str | None] = mapped_column(sa.String(1000))
    anonymous: Mapped[bool] = mapped_column(default=False)
    message_hidden: Mapped[bool] = mapped_column(default=False)
    source_url: Mapped[str | None] = mapped_column(sa.String(2000))
    article_id: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    locale: Mapped[str | None] = mapped_column(sa.String(16))
    # How an offline gift was received (cash, cheque, bank_transfer); the note is the editor's.
    offline_method: Mapped[str | None] = mapped_column(sa.String(32))
    note: Mapped[str | None] = mapped_column(sa.Text)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state_cause: Mapped[str | None] = mapped_column(sa.String(255))
    # Given when the gift is counted, from the site's gapless counter (receipt_counters).
    receipt_number: Mapped[int | None] = mapped_column(sa.BigInteger)

    goal: Mapped[Goal] = relationship()
    subscription: Mapped[Subscription | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint("refunded_minor >= 0", name="refunded_not_negative"),
        sa.CheckConstraint("disputed_minor >= 0", name="disputed_not_negative"),
        sa.CheckConstraint(
            "refunded_minor + disputed_minor <= amount_minor", name="deductions_within_amount"
        ),
        sa.CheckConstraint(
            "fee_cover_minor >= 0 AND fee_cover_minor <= amount_minor",
            name="fee_cover_within_amount",
        ),
        sa.CheckConstraint("length(currency) = 3", name="currency_code"),
        sa.Index("ix_donations_goal_state", "goal_id", "state"),
        sa.Index("ix_donations_goal_state_created", "goal_id", "state", "created_at"),
    )

    @hybrid_property
    def kept_minor(self) -> int:
        """The amount less what refunds and disputes took off: the one place this sum is written."""
        return self.amount_minor - self.refunded_minor - self.disputed_minor

    @property
    def net_minor(self) -> int:
        """What this gift adds to the goal: its amount less refunds and lost disputes."""
        return self.kept_minor if self.state == DonationState.SUCCEEDED else 0

    @property
    def matchable_minor(self) -> int:
        """What a sponsor's match doubles: the counted gift without the fees the donor covered."""
        return max(0, self.net_minor - self.fee_cover_minor)


class GoalDonor(Model):
    """Marks a donor as counted for a goal, so donor_count counts each donor once."""

    __tablename__ = "goal_donors"

    goal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True
    )
    donor_key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)


class Refund(Model):
    """One Stripe refund (or an offline correction), counted against its donation by status."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    donation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("donations.id", ondelete="RESTRICT"), index=True
    )
    stripe_refund_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    # A dashboard request's idempotency key: one row per key, however often the form is sent.
    request_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    amount_minor: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[RefundStatus] = mapped_column(str_enum(RefundStatus, "refund_status"))
    # The part of amount_minor currently taken off the donation: 0 or amount_minor.
    counted_minor: Mapped[int] = mapped_column(Money, default=0)
    reason: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_cause: Mapped[str | None] = mapped_column(sa.String(255))

    donation: Mapped[Donation] = relationship()

    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint(
            "counted_minor >= 0 AND counted_minor <= amount_minor", name="counted_within_amount"
        ),
    )


class Dispute(Model):
    """One Stripe dispute; only a lost one takes money off the total."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    donation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("donations.id", ondelete="RESTRICT"), index=True
    )
    stripe_dispute_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    amount_minor: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[DisputeStatus] = mapped_column(str_enum(DisputeStatus, "dispute_status"))
    counted_minor: Mapped[int] = mapped_column(Money, default=0)
    reason: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_cause: Mapped[str | None] = mapped_column(sa.String(255))

    donation: Mapped[Donation] = relationship()

    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint(
            "counted_minor >= 0 AND counted_minor <= amount_minor", name="counted_within_amount"
        ),
    )


class StripeEvent(Model):
    """The webhook inbox: every event Stripe sent, stored before it is applied."""

    __tablename__ = "stripe_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    type: Mapped[str] = mapped_column(sa.String(100), index=True)
    livemode: Mapped[bool] = mapped_column(default=False)
    api_version: Mapped[str | None] = mapped_column(sa.String(64))
    payload: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[EventStatus] = mapped_column(
        str_enum(EventStatus, "event_status"), default=EventStatus.RECEIVED
    )
    # A refund or dispute waiting for its payment: the PaymentIntent or charge id it needs.
    parked_on: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)


class LedgerEntry(Model):
    """Each change of a goal's totals with its cause, so every total can be traced and audited."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(sa.ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    donation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("donations.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(sa.String(64))
    raised_delta: Mapped[int] = mapped_column(Money, default=0)
    donation_delta: Mapped[int] = mapped_column(sa.Integer, default=0)
    donor_delta: Mapped[int] = mapped_column(sa.Integer, default=0)
    cause: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditLog(Model):
    """Who changed what outside the ledger: dashboard users, CLI commands."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sites.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(sa.String(255))
    action: Mapped[str] = mapped_column(sa.String(64))
    subject: Mapped[str | None] = mapped_column(sa.String(255))
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CurrencyExponent(Model):
    """The display exponent a currency's stored amounts were written with, checked at startup."""

    __tablename__ = "currency_exponents"

    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    display_exponent: Mapped[int] = mapped_column(sa.Integer)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("display_exponent BETWEEN 0 AND 4", name="exponent_range"),
    )


class InstanceSetting(Model):
    """Values this instance keeps for good: its id in Stripe metadata, its portal configuration."""

    __tablename__ = "instance_settings"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PortalGrant(Model):
    """A Checkout session whose Customer Portal grant went to a browser: each is given once."""

    __tablename__ = "portal_grants"

    checkout_session_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GoalCover(Model):
    """A goal page's cover image, re-encoded, kept in the database so every instance serves it."""

    __tablename__ = "goal_covers"

    goal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True
    )
    # SHA-256 of `data`: the public URL names it, so a URL's bytes never change.
    digest: Mapped[str] = mapped_column(sa.String(64))
    media_type: Mapped[str] = mapped_column(sa.String(32))
    width: Mapped[int] = mapped_column(sa.Integer)
    height: Mapped[int] = mapped_column(sa.Integer)
    # What a reader who cannot see the image is told; empty means the goal's title.
    alt: Mapped[str] = mapped_column(sa.String(300), default="")
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxKind(enum.StrEnum):
    RECEIPT = "receipt"
    REFUND_NOTICE = "refund_notice"
    RESET_REQUESTED = "reset_requested"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    # Nothing to send: no account for a reset request, no address left on a gift.
    SKIPPED = "skipped"
    # Every retry failed; an owner can resend a receipt.
    FAILED = "failed"


class OutboxMessage(Model):
    """A message to send, written with its cause; the worker leases, sends, then marks it sent."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(str_enum(OutboxKind, "outbox_kind"))
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    recipient: Mapped[str] = mapped_column(sa.String(320))
    site_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sites.id", ondelete="CASCADE"), index=True
    )
    donation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("donations.id", ondelete="CASCADE"), index=True
    )
    refund_id: Mapped[int | None] = mapped_column(sa.ForeignKey("refunds.id", ondelete="CASCADE"))
    # An owner's resend: the same receipt again, marked as a copy, under a Message-ID of its own.
    copy: Mapped[bool] = mapped_column(default=False)
    # Chosen when the row is written and used for every attempt, so a resend is the same message.
    message_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(sa.String(32))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_outbox_messages_due", "status", "available_at"),)


class ReceiptCounter(Model):
    """A site's last receipt number, moved in the transaction that counts a gift: no gaps."""

    __tablename__ = "receipt_counters"

    site_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    last_number: Mapped[int] = mapped_column(sa.BigInteger, default=0)
