"""The founding spec's four tables (users, projects, bandits, transactions) and the columns we add.

Names of the spec's tables and columns are a contract with other tools reading this database:
never rename or drop them. Foreign keys use ``ON DELETE RESTRICT`` so that deleting a customer,
a campaign or a deal can never silently take its transaction history with it; deals are
deactivated and campaigns ended instead.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from hotdeals.db.types import UTCDateTime, utcnow
from hotdeals.vocabulary import (
    DEFAULT_CURRENCY,
    DEFAULT_END_ACTION,
    DEFAULT_HALF_LIFE_HOURS,
    DEFAULT_MAX_RELATIVE_LOSS,
    DEFAULT_MIN_DURATION_DAYS,
    DEFAULT_NEW_DEAL_PRIOR,
    DEFAULT_OBJECTIVE,
    DEFAULT_POSITION_CORRECTION,
    DEFAULT_PRIOR,
    MAX_EMAIL,
    MAX_EMOJI,
    MAX_IMAGE_URL,
    MAX_NAME,
    MAX_VISITOR_ID,
    PRICE_DECIMALS,
    PRICE_DIGITS,
    VALUE_DIGITS,
    EndAction,
    NewDealPrior,
    Objective,
    PolicyName,
    ProjectStatus,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_STATUSES = ", ".join(f"'{status}'" for status in ProjectStatus)
_END_ACTIONS = ", ".join(f"'{action}'" for action in EndAction)
_NEW_DEAL_PRIORS = ", ".join(f"'{prior}'" for prior in NewDealPrior)
_OBJECTIVES = ", ".join(f"'{objective}'" for objective in Objective)
_ONE, _0 = text(str(DEFAULT_PRIOR)), text("0.0")

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base with a naming convention so that migrations name constraints stably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    """A customer of the shop; ``email`` is unique (spec).

    An anonymous visitor of a shop's page is a row too, so that every impression keeps its
    customer: ``visitor_id`` is the shop's or the strip's opaque id (unique), and the spec's
    NOT NULL ``email`` and ``name`` hold placeholders, no personal data
    (:mod:`hotdeals.services.visitors`).
    """

    __tablename__ = "users"

    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(MAX_EMAIL), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(MAX_NAME), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    visitor_id: Mapped[str | None] = mapped_column(String(MAX_VISITOR_ID), unique=True)

    transactions: Mapped[list[Transaction]] = relationship(
        back_populates="user", passive_deletes="all"
    )


class Project(Base):
    """A campaign: the deals under test, the policy that ranks them and its life cycle."""

    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint("number_of_bandits >= 0", name="number_of_bandits_non_negative"),
        CheckConstraint(f"status IN ({_STATUSES})", name="status_known"),
        CheckConstraint("slots >= 1", name="slots_positive"),
        CheckConstraint("prior_alpha > 0 AND prior_beta > 0", name="prior_positive"),
        CheckConstraint("epsilon >= 0 AND epsilon <= 1", name="epsilon_probability"),
        CheckConstraint("min_prob_best > 0.5 AND min_prob_best <= 1", name="min_prob_best_range"),
        CheckConstraint("min_impressions >= 0", name="min_impressions_non_negative"),
        CheckConstraint(
            "max_relative_loss >= 0 AND max_relative_loss < 1", name="max_relative_loss_range"
        ),
        CheckConstraint("min_duration_days >= 0", name="min_duration_days_non_negative"),
        CheckConstraint(f"end_action IN ({_END_ACTIONS})", name="end_action_known"),
        CheckConstraint(
            "half_life_hours IS NULL OR half_life_hours > 0", name="half_life_hours_positive"
        ),
        CheckConstraint(f"new_deal_prior IN ({_NEW_DEAL_PRIORS})", name="new_deal_prior_known"),
        CheckConstraint(f"objective IN ({_OBJECTIVES})", name="objective_known"),
    )

    project_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_name: Mapped[str] = mapped_column(String(MAX_NAME), nullable=False)
    project_description: Mapped[str | None] = mapped_column(Text)
    number_of_bandits: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default=text("0")
    )
    status: Mapped[str] = mapped_column(
        String(16),
        nullable=False,
        default=ProjectStatus.RUNNING.value,
        server_default=ProjectStatus.RUNNING.value,
    )
    policy: Mapped[str] = mapped_column(
        String(32),
        nullable=False,
        default=PolicyName.THOMPSON.value,
        server_default=PolicyName.THOMPSON.value,
    )
    epsilon: Mapped[float] = mapped_column(
        Float, nullable=False, default=0.1, server_default=text("0.1")
    )
    slots: Mapped[int] = mapped_column(Integer, nullable=False, default=3, server_default=text("3"))
    prior_alpha: Mapped[float] = mapped_column(
        Float, nullable=False, default=1.0, server_default=text("1.0")
    )
    prior_beta: Mapped[float] = mapped_column(
        Float, nullable=False, default=1.0, server_default=text("1.0")
    )
    min_prob_best: Mapped[float] = mapped_column(
        Float, nullable=False, default=0.95, server_default=text("0.95")
    )
    min_impressions: Mapped[int] = mapped_column(
        Integer, nullable=False, default=100, server_default=text("100")
    )
    max_relative_loss: Mapped[float] = mapped_column(
        Float,
        nullable=False,
        default=DEFAULT_MAX_RELATIVE_LOSS,
        server_default=text(str(DEFAULT_MAX_RELATIVE_LOSS)),
    )
    min_duration_days: Mapped[float] = mapped_column(
        Float,
        nullable=False,
        default=DEFAULT_MIN_DURATION_DAYS,
        server_default=text(str(DEFAULT_MIN_DURATION_DAYS)),
    )
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_action: Mapped[str] = mapped_column(
        String(16),
        nullable=False,
        default=DEFAULT_END_ACTION.value,
        server_default=DEFAULT_END_ACTION.value,
    )
    position_correction: Mapped[bool] = mapped_column(
        Boolean,
        nullable=False,
        default=DEFAULT_POSITION_CORRECTION,
        server_default=true() if DEFAULT_POSITION_CORRECTION else false(),
    )
    half_life_hours: Mapped[float | None] = mapped_column(Float, default=DEFAULT_HALF_LIFE_HOURS)
    new_deal_prior: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default=DEFAULT_NEW_DEAL_PRIOR.value
    )
    objective: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default=DEFAULT_OBJECTIVE.value
    )
    winner_bandit_id: Mapped[int | None] = mapped_column(
        ForeignKey("bandits.bandit_id", ondelete="RESTRICT", use_alter=True)
    )
    currency: Mapped[str] = mapped_column(
        String(3), nullable=False, default=DEFAULT_CURRENCY, server_default=DEFAULT_CURRENCY
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    bandits: Mapped[list[Bandit]] = relationship(
        back_populates="project",
        foreign_keys="Bandit.project_id",
        order_by="Bandit.bandit_id",
        passive_deletes="all",
    )
    transactions: Mapped[list[Transaction]] = relationship(
        back_populates="project", passive_deletes="all"
    )
    winner: Mapped[Bandit | None] = relationship(foreign_keys=[winner_bandit_id], post_update=True)


class Bandit(Base):
    """One deal variant (an arm) with its Beta posterior and counters (spec).

    The counters are a cache of the transactions log kept exact by atomic SQL updates
    (:mod:`hotdeals.db.counters`); ``hotdeals db-check`` verifies and rebuilds them.
    """

    __tablename__ = "bandits"
    __table_args__ = (
        UniqueConstraint("project_id", "bandit_name"),
        CheckConstraint("n >= 0", name="n_non_negative"),
        CheckConstraint("number_of_success >= 0", name="success_non_negative"),
        CheckConstraint("number_of_failures >= 0", name="failures_non_negative"),
        CheckConstraint("alpha > 0 AND beta > 0", name="posterior_positive"),
        CheckConstraint("prior_alpha > 0", name="prior_alpha_positive"),
        CheckConstraint("prior_beta > 0", name="prior_beta_positive"),
        CheckConstraint("discounted_impressions >= 0", name="discounted_impressions_non_negative"),
        CheckConstraint("discounted_clicks >= 0", name="discounted_clicks_non_negative"),
        CheckConstraint("purchases >= 0", name="purchases_non_negative"),
        CheckConstraint("purchase_value >= 0", name="purchase_value_non_negative"),
    )

    bandit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.project_id", ondelete="RESTRICT"), nullable=False, index=True
    )
    bandit_name: Mapped[str] = mapped_column(String(MAX_NAME), nullable=False)
    alpha: Mapped[float] = mapped_column(Float, nullable=False, default=1.0)
    beta: Mapped[float] = mapped_column(Float, nullable=False, default=1.0)
    n: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    number_of_success: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default=text("0")
    )
    number_of_failures: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default=text("0")
    )
    active: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=true()
    )
    # The deal's own prior (the campaign's, or an empirical-Bayes one): alpha = prior_alpha +
    # successes. Forgetting's sums (:mod:`hotdeals.db.discounted`) are as of discounted_at (Unix s).
    prior_alpha: Mapped[float] = mapped_column(Float, nullable=False, server_default=_ONE)
    prior_beta: Mapped[float] = mapped_column(Float, nullable=False, server_default=_ONE)
    discounted_impressions: Mapped[float] = mapped_column(Float, nullable=False, server_default=_0)
    discounted_clicks: Mapped[float] = mapped_column(Float, nullable=False, server_default=_0)
    discounted_at: Mapped[float | None] = mapped_column(Float)
    # Purchases, their value and the sums of their log values and its square: the revenue
    # posterior's statistics (:mod:`hotdeals.bandit.revenue`), kept like the click counters.
    purchases: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    purchase_value: Mapped[Decimal] = mapped_column(
        Numeric(VALUE_DIGITS, PRICE_DECIMALS), nullable=False, server_default=text("0")
    )
    log_value_sum: Mapped[float] = mapped_column(Float, nullable=False, server_default=_0)
    log_value_square_sum: Mapped[float] = mapped_column(Float, nullable=False, server_default=_0)
    description: Mapped[str | None] = mapped_column(Text)
    price: Mapped[Decimal | None] = mapped_column(Numeric(PRICE_DIGITS, PRICE_DECIMALS))
    emoji: Mapped[str | None] = mapped_column(String(MAX_EMOJI))
    image_url: Mapped[str | None] = mapped_column(String(MAX_IMAGE_URL))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="bandits", foreign_keys=[project_id])
    transactions: Mapped[list[Transaction]] = relationship(
        back_populates="bandit", passive_deletes="all"
    )


PURCHASED = "purchases <> 0 OR purchase_value <> 0"
"""The partial index's condition: an impression that claims a purchase."""


class Transaction(Base):
    """One impression of a deal shown to a customer, and whether it was clicked (spec).

    This log is the source of truth: every counter on ``bandits`` can be rebuilt from it.
    """

    __tablename__ = "transactions"
    __table_args__ = (
        # Every read of the log names its campaign and a time span (exports, replay, the edge
        # of the last 24 h): the one index besides the key. Foreign keys to users and deals have
        # none: those rows are never deleted, so no check ever looks up their impressions, and
        # each index is paid by every impression (migration 0008).
        Index("ix_transactions_project_id_timestamp", "project_id", "timestamp"),
        # The impressions with purchases, few among many: db-check finds them without a scan.
        Index(
            "ix_transactions_purchased",
            "transaction_id",
            postgresql_where=text(PURCHASED),
            sqlite_where=text(PURCHASED),
        ),
        CheckConstraint("position IS NULL OR position >= 1", name="position_positive"),
        CheckConstraint("purchases >= 0", name="purchases_non_negative"),
        CheckConstraint("purchase_value >= 0", name="purchase_value_non_negative"),
    )

    transaction_id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("users.customer_id", ondelete="RESTRICT"), nullable=False
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.project_id", ondelete="RESTRICT"), nullable=False
    )
    bandit_id: Mapped[int] = mapped_column(
        ForeignKey("bandits.bandit_id", ondelete="RESTRICT"), nullable=False
    )
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    clicked: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    position: Mapped[int | None] = mapped_column(Integer)
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the impression led to (:class:`hotdeals.db.service_tables.Purchase` holds each one).
    purchases: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    purchase_value: Mapped[Decimal] = mapped_column(
        Numeric(VALUE_DIGITS, PRICE_DECIMALS), nullable=False, server_default=text("0")
    )
    purchased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="transactions")
    project: Mapped[Project] = relationship(back_populates="transactions")
    bandit: Mapped[Bandit] = relationship(back_populates="transactions")
