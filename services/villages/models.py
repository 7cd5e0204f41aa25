"""Tables of the villages service: the wilayah registry and the reports villages raised."""
from sqlalchemy import (
    JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint, false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, messaging_tables


class Base(DeclarativeBase):
    pass


class Province(Base):
    __tablename__ = "provinces"
    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Regency(Base):
    __tablename__ = "regencies"
    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"))
    name: Mapped[str] = mapped_column(String(100))


class District(Base):
    __tablename__ = "districts"
    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    regency_code: Mapped[str] = mapped_column(ForeignKey("regencies.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class Village(Base):
    __tablename__ = "villages"
    code: Mapped[str] = mapped_column(String(13), primary_key=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    name: Mapped[str] = mapped_column(String(100), index=True)


class Report(Base):
    """An issue a village raised; its id is the id of the case it opens."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("village_code", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(20), unique=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("villages.code"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(10))
    affected_people: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    reporter_id: Mapped[str] = mapped_column(String(36))
    reporter_name: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    created_at = mapped_column(UTCDateTime, nullable=False)
    # The photos sent with the report (events.PhotoRef), announced with it.
    photos = mapped_column(JSON, nullable=True)
    # Seen only by those the case concerns, never published (commands.ReportInput).
    confidential: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                               server_default=false())


OUTBOX, PROCESSED_EVENTS = messaging_tables(Base.metadata)
