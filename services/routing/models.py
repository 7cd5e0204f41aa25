"""Tables of the routing service: agencies, routing rules, and each decision taken."""
from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, messaging_tables


class Base(DeclarativeBase):
    pass


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(40))
    regency_code: Mapped[str] = mapped_column(String(5), index=True)
    regency_name: Mapped[str] = mapped_column(String(100))
    categories = mapped_column(JSON, nullable=False)


class Rule(Base):
    """A routing rule as data: where and what it covers, under which conditions, to whom."""

    __tablename__ = "rules"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    scope_code: Mapped[str] = mapped_column(String(13), index=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    min_severity: Mapped[str | None] = mapped_column(String(10), nullable=True)
    min_affected_people: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lead_agency_id: Mapped[str] = mapped_column(String(64))
    support_agency_ids = mapped_column(JSON, nullable=False)
    # Agencies to try, in order, when one of the above declines ("bukan kewenangan kami").
    fallback_agency_ids = mapped_column(JSON, nullable=False, default=list, server_default="[]")
    # {severity: {"accept": "1wd", "resolve": "3wd"}}: overrides of the default policy
    deadlines = mapped_column(JSON, nullable=False, default=dict, server_default="{}")


class Decision(Base):
    __tablename__ = "decisions"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20))
    rule_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    explanation = mapped_column(JSON, nullable=False)
    tasks = mapped_column(JSON, nullable=False)
    decided_at = mapped_column(UTCDateTime, nullable=False)


class Referral(Base):
    """A declined task sent on to the next agency the rule names."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    declined_agency_id: Mapped[str] = mapped_column(String(64))
    referred_agency_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at = mapped_column(UTCDateTime, nullable=False)


OUTBOX, PROCESSED_EVENTS = messaging_tables(Base.metadata)
