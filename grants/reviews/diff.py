"""What changed between two submitted versions: a field-by-field comparison of snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from grants.programmes.catalogue import DECLARATIONS

# How a value is shown: money and dates are formatted, the rest is printed as it is.
MONEY_FIELDS = {
    "unit_price",
    "amount",
    "total_costs",
    "own_funds",
    "participant_fees",
    "requested_grant",
    "largest_possible_grant",
}
DATE_FIELDS = {"start_date", "end_date", "tax_exemption_date"}
BOOL_FIELDS = {"approved", "input_tax_deduction"}
NUMBER_FIELDS = MONEY_FIELDS | {"quantity"}
LINE_FIELDS = ("category", "description", "quantity", "unit_price", "amount", "lump_sum")

FIELD_LABELS = {
    "name": _l("Name of the organisation"),
    "legal_form": _l("Legal form"),
    "register_court": _l("Register court"),
    "register_number": _l("Register number"),
    "street": _l("Street and number"),
    "postcode": _l("Postcode"),
    "city": _l("City"),
    "contact_name": _l("Contact person"),
    "contact_email": _l("Contact e-mail"),
    "contact_phone": _l("Contact phone"),
    "iban": _l("IBAN"),
    "bic": _l("BIC"),
    "bank_name": _l("Bank"),
    "account_holder": _l("Account holder"),
    "tax_exemption_date": _l("Date of the tax-exemption notice"),
    "title": _l("Project title"),
    "summary": _l("Summary"),
    "goals": _l("Goals"),
    "target_groups": _l("Target groups"),
    "district": _l("City district"),
    "location": _l("Location"),
    "start_date": _l("Start"),
    "end_date": _l("End"),
    "expected_participants": _l("Expected participants"),
    "volunteers": _l("Volunteers involved"),
    "category": _l("Cost category"),
    "description": _l("Description"),
    "quantity": _l("Quantity"),
    "unit_price": _l("Unit price"),
    "amount": _l("Amount"),
    "lump_sum": _l("Lump sum"),
    "total_costs": _l("Total costs"),
    "own_funds": _l("Own funds"),
    "participant_fees": _l("Participant fees"),
    "requested_grant": _l("Requested grant"),
    "largest_possible_grant": _l("Largest possible grant"),
    "approved": _l("already approved"),
    "filename": _l("File"),
    "input_tax_deduction": _l("Input-tax deduction"),
}


@dataclass(frozen=True)
class Change:
    """One difference: in which section, which field (of which line), from what to what.

    kind is 'changed', 'added' or 'removed'; item names the cost line, third-party fund or
    attachment a change belongs to (None for plain fields); old is None for an added value,
    new is None for a removed one.
    """

    section: str
    field: str
    old: Any
    new: Any
    kind: str = "changed"
    item: str | None = None

    @property
    def label(self) -> str:
        """The field in words."""
        if self.field.startswith("declaration_"):
            code = self.field.removeprefix("declaration_")
            return str(DECLARATIONS.get(code, code))
        return str(FIELD_LABELS.get(self.field, self.field))

    @property
    def value_type(self) -> str:
        """'money', 'date', 'bool' or 'text': how the template shows old and new."""
        if self.field in MONEY_FIELDS:
            return "money"
        if self.field in DATE_FIELDS:
            return "date"
        if self.field in BOOL_FIELDS or self.field.startswith("declaration_"):
            return "bool"
        return "text"


def _blank(value: Any) -> Any:
    """Empty strings and missing values are the same thing for a reader."""
    return None if value in ("", None) else value


def _differ(name: str, before: Any, after: Any) -> bool:
    """True when a reader would see a difference ("20" and "20.00" are the same quantity)."""
    if before == after:
        return False
    if name in NUMBER_FIELDS and isinstance(before, str) and isinstance(after, str):
        try:
            return Decimal(before) != Decimal(after)
        except InvalidOperation:
            return True
    return True


def _fields(section: str, old: dict, new: dict, item: str | None = None) -> list[Change]:
    changes = []
    for name in dict.fromkeys([*(old or {}), *(new or {})]):
        before, after = _blank((old or {}).get(name)), _blank((new or {}).get(name))
        if _differ(name, before, after):
            changes.append(Change(section, name, before, after, item=item))
    return changes


def _match_lines(old: list[dict], new: list[dict]) -> list[tuple[dict | None, dict | None]]:
    """Pair cost lines: same description first (in order), then what is left at one position."""
    unmatched_new = list(range(len(new)))
    pairs: dict[int, int] = {}
    for i, line in enumerate(old):
        for j in unmatched_new:
            if new[j].get("description") == line.get("description"):
                pairs[i] = j
                unmatched_new.remove(j)
                break
    for i in range(len(old)):
        if i not in pairs and i in unmatched_new:
            pairs[i] = i
            unmatched_new.remove(i)
    result: list[tuple[dict | None, dict | None]] = [
        (line, new[pairs[i]] if i in pairs else None) for i, line in enumerate(old)
    ]
    result.extend((None, new[j]) for j in unmatched_new)
    return result


def _cost_lines(old: list[dict], new: list[dict]) -> list[Change]:
    changes = []
    for before, after in _match_lines(old or [], new or []):
        if after is None:
            changes.append(
                Change(
                    "costs", "amount", before.get("amount"), None, "removed", before["description"]
                )
            )
        elif before is None:
            changes.append(
                Change("costs", "amount", None, after.get("amount"), "added", after["description"])
            )
        else:
            for name in LINE_FIELDS:
                if _differ(name, _blank(before.get(name)), _blank(after.get(name))):
                    changes.append(
                        Change(
                            "costs",
                            name,
                            _blank(before.get(name)),
                            _blank(after.get(name)),
                            item=before.get("description"),
                        )
                    )
    return changes


def _keyed(
    section: str, key: str, old: list[dict], new: list[dict], value_field: str
) -> list[Change]:
    """Rows identified by one key (fund source, attachment id): added, removed or changed."""
    before = {row.get(key): row for row in old or []}
    after = {row.get(key): row for row in new or []}
    changes = []
    for name, row in before.items():
        label = str(row.get("filename") or name)
        if name not in after:
            changes.append(
                Change(section, value_field, row.get(value_field), None, "removed", label)
            )
        else:
            changes.extend(
                c
                for c in _fields(section, row, after[name], item=label)
                if c.field not in (key, "sha256", "id")
            )
    for name, row in after.items():
        if name not in before:
            label = str(row.get("filename") or name)
            changes.append(Change(section, value_field, None, row.get(value_field), "added", label))
    return changes


def diff_snapshots(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every difference between two version snapshots, section by section."""
    old_financing, new_financing = old.get("financing") or {}, new.get("financing") or {}
    scalar = ("own_funds", "participant_fees", "requested_grant", "largest_possible_grant")
    old_declared = {f"declaration_{k}": v for k, v in (old.get("declarations") or {}).items()}
    new_declared = {f"declaration_{k}": v for k, v in (new.get("declarations") or {}).items()}
    old_declared["input_tax_deduction"] = old.get("input_tax_deduction")
    new_declared["input_tax_deduction"] = new.get("input_tax_deduction")
    return [
        *_fields("organisation", old.get("organisation") or {}, new.get("organisation") or {}),
        *_fields("project", old.get("project") or {}, new.get("project") or {}),
        *_cost_lines(old.get("cost_lines") or [], new.get("cost_lines") or []),
        *_fields(
            "costs",
            {"total_costs": old.get("total_costs")},
            {"total_costs": new.get("total_costs")},
        ),
        *_fields(
            "financing",
            {k: old_financing.get(k) for k in scalar},
            {k: new_financing.get(k) for k in scalar},
        ),
        *_keyed(
            "financing",
            "source",
            old_financing.get("third_party_funds") or [],
            new_financing.get("third_party_funds") or [],
            "amount",
        ),
        *_keyed(
            "attachments",
            "id",
            old.get("attachments") or [],
            new.get("attachments") or [],
            "filename",
        ),
        *_fields("declarations", old_declared, new_declared),
    ]
