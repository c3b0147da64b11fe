"""The verbs of programmes, calls and lump-sum catalogues: they flush, the caller commits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, select

from grants.applications.models import CostLine
from grants.auth.models import User
from grants.core import audit
from grants.core.models import utcnow
from grants.extensions import db
from grants.programmes.models import Call, LumpSumItem, Programme

PROGRAMME_FIELDS = (
    "name",
    "code",
    "description",
    "legal_basis",
    "financing_type",
    "share_rate",
    "min_grant",
    "max_grant",
    "total_budget",
    "eligible_categories",
    "required_attachments",
    "required_declarations",
    "proof_of_use_months",
)
LUMP_SUM_FIELDS = ("code", "label", "unit", "amount", "max_units")
CALL_FIELDS = ("title", "opens_at", "closes_at", "project_start", "project_end", "budget")
TEXT_FIELDS = {"description", "legal_basis"}  # NOT NULL text: blank is stored as ""


class ProgrammeError(Exception):
    """Input that breaks a rule; problems maps a field name to the code of the rule."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(problems)
        self.problems = problems


def _programme_problems(data: dict[str, Any], programme: Programme | None) -> dict[str, str]:
    problems = {}
    rate = data.get("share_rate")
    if data.get("financing_type") == "share":
        if rate is None:
            problems["share_rate"] = "share_rate_missing"
        elif not Decimal(0) < rate <= Decimal(100):
            problems["share_rate"] = "share_rate_range"
    minimum, maximum = data.get("min_grant"), data.get("max_grant")
    if minimum is not None and maximum is not None and maximum < minimum:
        problems["max_grant"] = "max_below_min"
    same_code = select(Programme.id).where(Programme.code == data.get("code"))
    if programme is not None:
        same_code = same_code.where(Programme.id != programme.id)
    if db.session.scalar(same_code) is not None:
        problems["code"] = "code_taken"
    return problems


def _programme_values(data: dict[str, Any], financing_type: str) -> dict[str, Any]:
    values = {key: data[key] for key in PROGRAMME_FIELDS if key in data}
    for key in TEXT_FIELDS & values.keys():
        values[key] = values[key] or ""
    for key in ("eligible_categories", "required_attachments", "required_declarations"):
        if key in values:
            values[key] = list(values[key] or [])
    if financing_type != "share":
        values["share_rate"] = None  # a rate only means something for share financing
    return values


def create_programme(data: dict[str, Any], actor: User | None = None) -> Programme:
    """Create a programme; refuse a missing share rate, min above max or a code in use."""
    problems = _programme_problems(data, None)
    if problems:
        raise ProgrammeError(problems)
    programme = Programme(**_programme_values(data, data["financing_type"]))
    db.session.add(programme)
    audit.record("programme.created", programme, actor=actor, code=programme.code)
    return programme


def update_programme(programme: Programme, data: dict[str, Any], actor: User | None = None) -> None:
    """Change a programme under the same rules; the audit row lists the fields that changed."""
    merged = {**_current(programme, PROGRAMME_FIELDS), **data}
    problems = _programme_problems(merged, programme)
    if problems:
        raise ProgrammeError(problems)
    changed = _apply(programme, _programme_values(data, merged["financing_type"]))
    if changed:
        audit.record("programme.updated", programme, actor=actor, fields=changed)


def save_lump_sum_item(
    programme: Programme,
    data: dict[str, Any],
    actor: User | None = None,
    item: LumpSumItem | None = None,
) -> LumpSumItem:
    """Add an item to the programme's lump-sum catalogue, or change one; codes are unique."""
    taken = db.session.scalar(
        select(LumpSumItem.id).where(
            LumpSumItem.programme_id == programme.id, LumpSumItem.code == data["code"]
        )
    )
    if taken is not None and (item is None or taken != item.id):
        raise ProgrammeError({"code": "lump_sum_code_taken"})
    values = {key: data[key] for key in LUMP_SUM_FIELDS if key in data}
    if item is None:
        item = LumpSumItem(programme=programme, **values)
        db.session.add(item)
        audit.record("programme.lump_sum_added", item, actor=actor, code=item.code)
        return item
    changed = _apply(item, values)
    if changed:
        audit.record("programme.lump_sum_updated", item, actor=actor, fields=changed)
    return item


def lump_sum_in_use(item: LumpSumItem) -> bool:
    """True when a cost line of some application uses the item."""
    return bool(db.session.scalar(select(exists().where(CostLine.lump_sum_item_id == item.id))))


def delete_lump_sum_item(item: LumpSumItem, actor: User | None = None) -> None:
    """Remove an item from the catalogue, unless an application uses it."""
    if lump_sum_in_use(item):
        raise ProgrammeError({"item": "lump_sum_in_use"})
    audit.record(
        "programme.lump_sum_deleted",
        item,
        actor=actor,
        programme_id=item.programme_id,
        code=item.code,
        label=item.label,
    )
    item.programme.lump_sums.remove(item)
    db.session.flush()


def _call_problems(data: dict[str, Any]) -> dict[str, str]:
    problems = {}
    if data["closes_at"] <= data["opens_at"]:
        problems["closes_at"] = "closes_before_opens"
    if data["project_end"] < data["project_start"]:
        problems["project_end"] = "end_before_start"
    return problems


def create_call(programme: Programme, data: dict[str, Any], actor: User | None = None) -> Call:
    """Open a call of the programme; the deadline comes after the start, the period is ordered."""
    problems = _call_problems(data)
    if problems:
        raise ProgrammeError(problems)
    call = Call(programme=programme, **{key: data[key] for key in CALL_FIELDS if key in data})
    db.session.add(call)
    audit.record(
        "programme.call_created", call, actor=actor, programme_id=programme.id, title=call.title
    )
    return call


def update_call(call: Call, data: dict[str, Any], actor: User | None = None) -> None:
    """Change a call under the same rules; the audit row lists the fields that changed."""
    problems = _call_problems({**_current(call, CALL_FIELDS), **data})
    if problems:
        raise ProgrammeError(problems)
    changed = _apply(call, {key: data[key] for key in CALL_FIELDS if key in data})
    if changed:
        audit.record("programme.call_updated", call, actor=actor, fields=changed)


def open_calls(now: datetime | None = None) -> list[Call]:
    """The calls that accept applications right now, the nearest deadline first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(Call)
            .join(Call.programme)
            .where(Call.opens_at <= now, Call.closes_at > now)
            .order_by(Call.closes_at, Programme.name, Call.id)
        )
    )


def all_programmes() -> list[Programme]:
    """Every programme by name, for the administration."""
    return list(db.session.scalars(select(Programme).order_by(Programme.name)))


def _current(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {key: getattr(obj, key) for key in fields}


def _apply(obj: Any, values: dict[str, Any]) -> list[str]:
    changed = []
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed.append(key)
    return changed
