"""Stand-ins for the case and task rows: the attributes services/requests reads and writes."""
from dataclasses import dataclass, field
from datetime import datetime, timezone

from services.requests.domain import PENDING, REPORTED

T0 = datetime(2025, 3, 4, 8, 0, tzinfo=timezone.utc)


@dataclass
class Task:
    id: str = "t-pdam"
    agency_id: str = "pdam-batu"
    agency_name: str = "PDAM"
    role: str = "lead"
    status: str = PENDING
    assigned_at: datetime | None = None
    accept_due_at: datetime | None = None
    due_at: datetime | None = None
    accepted_at: datetime | None = None
    completed_at: datetime | None = None
    declined_at: datetime | None = None
    last_note: str | None = None
    ladder_step: int = 0


@dataclass
class Case:
    id: str = "case-1"
    status: str = REPORTED
    tasks: list = field(default_factory=list)
    village_code: str = "35.79.02.2001"
    district_code: str = "35.79.02"
    regency_code: str = "35.79"
    updated_at: datetime = T0
    rule_id: str | None = None
    severity: str = "high"
    escalation_level: int = 0
    resolved_at: datetime | None = None
    closing_warned_at: datetime | None = None
    explanation: dict | None = None
    confidential: bool = False
