"""The registry of units, agencies, successions and procedures: listing, import, export.

Imports are all-or-nothing: every row is checked first and the precise messages
(line and column) are returned together; only a clean file is written, in one commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..errors import ValidationFailed
from ..extensions import db
from ..importers.tabular import Table, read_table
from ..models import AdminUnit, AdminUnitSuccession, Agency, AgencySuccession, Procedure, User
from ..models.codes import AgencyKind, AuditAction, UnitLevel
from ..reporting.tabular import to_csv, to_xlsx
from . import audit

KINDS = ("units", "agencies", "unit_successions", "agency_successions", "procedures")

COLUMNS = {
    "units": ["code", "name", "level", "parent_code", "valid_from", "valid_to"],
    "agencies": ["code", "portal_code", "name", "kind", "unit_code", "valid_from", "valid_to"],
    "unit_successions": ["old_code", "new_code", "share", "effective_date"],
    "agency_successions": ["old_code", "new_code", "share", "effective_date"],
    "procedures": ["code", "name", "field", "agency_codes"],
}
REQUIRED = {
    "units": {"code", "name", "level", "valid_from"},
    "agencies": {"code", "name", "kind", "valid_from"},
    "unit_successions": {"old_code", "new_code", "share", "effective_date"},
    "agency_successions": {"old_code", "new_code", "share", "effective_date"},
    "procedures": {"code", "name", "field"},
}
MAX_LENGTH = {"code": 32, "portal_code": 32, "name": 200, "field": 200, "parent_code": 16,
              "unit_code": 16, "old_code": 32, "new_code": 32}


def kind_labels() -> dict[str, str]:
    return {
        "units": _("Administrative units"),
        "agencies": _("Assessed agencies"),
        "unit_successions": _("Unit successions"),
        "agency_successions": _("Agency successions"),
        "procedures": _("Administrative procedures (TTHC)"),
    }


def upload_messages() -> dict[str, str]:
    """The reader's messages, in the current language."""
    return {
        "empty": _("The file is empty."),
        "extension": _("Only .csv (UTF-8) and .xlsx files can be imported."),
        "no_rows": _("The file has a header but no data rows."),
        "too_many": _("The file has more than %(max)s rows."),
        "encoding": _("The file is not valid UTF-8 text (first bad byte at position "
                      "%(position)s). Save it as “CSV UTF-8” or as .xlsx and try again."),
        "malformed": _("The CSV file cannot be read: %(detail)s"),
        "bad_xlsx": _("The file is not a valid .xlsx workbook."),
    }


def parse_upload(filename: str, data: bytes, max_rows: int) -> Table:
    return read_table(filename, data, upload_messages(), max_rows)


# ---- reading ---------------------------------------------------------------------------

def list_units(on: date | None = None) -> list[AdminUnit]:
    query = select(AdminUnit).options(selectinload(AdminUnit.parent)).order_by(
        AdminUnit.valid_from, AdminUnit.level.desc(), AdminUnit.code)
    if on is not None:
        query = query.where(AdminUnit.valid_from <= on,
                            (AdminUnit.valid_to.is_(None)) | (AdminUnit.valid_to >= on))
    return list(db.session.scalars(query))


def list_agencies(on: date | None = None) -> list[Agency]:
    query = (select(Agency).options(selectinload(Agency.admin_unit))
             .order_by(Agency.kind, Agency.name))
    if on is not None:
        query = query.where(Agency.valid_from <= on,
                            (Agency.valid_to.is_(None)) | (Agency.valid_to >= on))
    return list(db.session.scalars(query))


def list_procedures() -> list[Procedure]:
    return list(db.session.scalars(select(Procedure).options(selectinload(Procedure.agencies))
                                   .order_by(Procedure.field, Procedure.code)))


def list_successions() -> tuple[list[AdminUnitSuccession], list[AgencySuccession]]:
    units = list(db.session.scalars(select(AdminUnitSuccession).order_by(
        AdminUnitSuccession.effective_date, AdminUnitSuccession.id)))
    agencies = list(db.session.scalars(select(AgencySuccession).order_by(
        AgencySuccession.effective_date, AgencySuccession.id)))
    return units, agencies


# ---- export ----------------------------------------------------------------------------

def export_rows(kind: str) -> list[dict]:
    if kind == "units":
        return [{"code": u.code, "name": u.name, "level": u.level,
                 "parent_code": u.parent.code if u.parent else "", "valid_from": u.valid_from,
                 "valid_to": u.valid_to} for u in list_units()]
    if kind == "agencies":
        return [{"code": a.code, "portal_code": a.portal_code or "", "name": a.name, "kind": a.kind,
                 "unit_code": a.admin_unit.code if a.admin_unit else "",
                 "valid_from": a.valid_from, "valid_to": a.valid_to} for a in list_agencies()]
    units, agencies = list_successions()
    if kind == "unit_successions":
        return [{"old_code": s.old_unit.code, "new_code": s.new_unit.code, "share": s.share,
                 "effective_date": s.effective_date} for s in units]
    if kind == "agency_successions":
        return [{"old_code": s.old_agency.code, "new_code": s.new_agency.code, "share": s.share,
                 "effective_date": s.effective_date} for s in agencies]
    return [{"code": p.code, "name": p.name, "field": p.field,
             "agency_codes": ";".join(a.code for a in p.agencies)} for p in list_procedures()]


def export_file(kind: str, fmt: str) -> bytes:
    """The registry part ``kind`` as CSV or XLSX bytes, in the import's own column layout."""
    rows = export_rows(kind)
    if fmt == "xlsx":
        return to_xlsx(COLUMNS[kind], rows, kind)
    return to_csv(COLUMNS[kind], rows)


# ---- import ----------------------------------------------------------------------------

@dataclass
class _RowErrors:
    messages: list[str]

    def add(self, line: int, column: str, message: str) -> None:
        self.messages.append(_("Line %(line)s, column “%(column)s”: %(message)s",
                               line=line, column=column, message=message))


def _parse_date(value) -> date:
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(_("“%(value)s” is not a date (use dd/mm/yyyy or yyyy-mm-dd).", value=text))


def _parse_share(value) -> float:
    try:
        share = float(str(value).strip().replace(",", "."))
    except ValueError:
        raise ValueError(_("“%(value)s” is not a number.", value=value)) from None
    if not 0 < share <= 1:
        raise ValueError(_("the share must be greater than 0 and at most 1."))
    return share


def _enum(values: type) -> Callable[[object], str]:
    allowed = [v.value for v in values]

    def parse(value) -> str:
        text = str(value).strip().lower()
        if text not in allowed:
            raise ValueError(_("“%(value)s” is not one of: %(allowed)s.", value=value,
                               allowed=", ".join(allowed)))
        return text

    return parse


PARSERS: dict[str, Callable[[object], object]] = {
    "valid_from": _parse_date, "valid_to": _parse_date, "effective_date": _parse_date,
    "share": _parse_share, "level": _enum(UnitLevel), "kind": _enum(AgencyKind),
}


def _clean_rows(kind: str, table: Table) -> list[dict]:
    """Check headers and every cell; raise one ValidationFailed listing all problems."""
    errors = _RowErrors([])
    missing = [c for c in COLUMNS[kind] if c in REQUIRED[kind] and c not in table.headers]
    if missing:
        raise ValidationFailed(_("Missing columns: %(columns)s. Expected columns: %(expected)s.",
                                 columns=", ".join(missing), expected=", ".join(COLUMNS[kind])))
    cleaned = []
    for row in table.rows:
        line = int(row["_line"])
        out: dict = {"_line": line}
        for column in COLUMNS[kind]:
            raw = row.get(column, "")
            text = raw if isinstance(raw, date) else str(raw).strip()
            if text == "":
                if column in REQUIRED[kind]:
                    errors.add(line, column, _("a value is required."))
                out[column] = None
                continue
            if isinstance(text, str) and ("<" in text or ">" in text):
                errors.add(line, column, _("the characters < and > are not allowed."))
                continue
            if isinstance(text, str) and len(text) > MAX_LENGTH.get(column, 500):
                errors.add(line, column,
                           _("at most %(n)s characters.", n=MAX_LENGTH.get(column, 500)))
                continue
            parser = PARSERS.get(column)
            try:
                out[column] = parser(raw) if parser else text
            except ValueError as exc:
                errors.add(line, column, str(exc))
        cleaned.append(out)
    if not errors.messages:
        _check_periods(cleaned, errors)
    if errors.messages:
        raise ValidationFailed(_("The file was not imported: %(n)s problem(s) found. Nothing was "
                                 "changed.", n=len(errors.messages)), errors=errors.messages)
    return cleaned


def _check_periods(rows: list[dict], errors: _RowErrors) -> None:
    seen: dict[tuple, int] = {}
    for row in rows:
        if row.get("valid_from") and row.get("valid_to") and row["valid_to"] < row["valid_from"]:
            errors.add(row["_line"], "valid_to", _("ends before it starts."))
        key = (row.get("code") or row.get("old_code"), row.get("valid_from") or row.get("new_code"))
        if key in seen:
            errors.add(row["_line"], "code", _("duplicate of line %(line)s.", line=seen[key]))
        seen[key] = row["_line"]


def _units_by_code() -> dict[str, list[AdminUnit]]:
    found: dict[str, list[AdminUnit]] = {}
    for unit in db.session.scalars(select(AdminUnit).order_by(AdminUnit.valid_from)):
        found.setdefault(unit.code, []).append(unit)
    return found


def _agencies_by_code() -> dict[str, list[Agency]]:
    found: dict[str, list[Agency]] = {}
    for agency in db.session.scalars(select(Agency).order_by(Agency.valid_from)):
        found.setdefault(agency.code, []).append(agency)
    return found


def _version_on(versions: list, on: date | None):
    """The version of a code valid on a date (the latest one when no date is given)."""
    if not versions:
        return None
    if on is None:
        return versions[-1]
    valid = [v for v in versions if v.valid_from <= on and (v.valid_to is None or v.valid_to >= on)]
    return valid[-1] if valid else None


def apply_import(actor: User | None, kind: str, table: Table) -> dict:
    """Validate and stage an import in the session (the caller commits). Returns counts."""
    if kind not in KINDS:
        raise ValidationFailed(_("Unknown registry part."))
    rows = _clean_rows(kind, table)
    errors = _RowErrors([])
    staged = {"units": _stage_units, "agencies": _stage_agencies,
              "unit_successions": _stage_unit_successions,
              "agency_successions": _stage_agency_successions,
              "procedures": _stage_procedures}[kind](actor, rows, errors)
    if errors.messages:
        db.session.rollback()
        raise ValidationFailed(_("The file was not imported: %(n)s problem(s) found. Nothing was "
                                 "changed.", n=len(errors.messages)), errors=errors.messages)
    if staged["created"] or staged["updated"]:
        audit.record(actor, AuditAction.IMPORT, object_type=kind, object_id="*",
                     summary=_("%(created)s created, %(updated)s updated, %(unchanged)s "
                               "unchanged", **staged),
                     after={"rows": len(rows), **staged})
    return staged


def _upsert(actor, obj, values: dict, counts: dict) -> None:
    is_new = obj.id is None
    before = None if is_new else audit.snapshot(obj)
    before_links = None if is_new else _links(obj)
    for key, value in values.items():
        setattr(obj, key, value)
    if is_new:
        db.session.add(obj)
    db.session.flush()
    if not is_new and audit.snapshot(obj) == before and _links(obj) == before_links:
        counts["unchanged"] += 1
        return
    counts["created" if is_new else "updated"] += 1
    audit.record(actor, AuditAction.CREATE if is_new else AuditAction.UPDATE, obj,
                 before=before, after=audit.snapshot(obj), summary=str(values.get("name") or ""))


def _links(obj) -> list[int] | None:
    return sorted(a.id for a in obj.agencies) if isinstance(obj, Procedure) else None


def _stage_units(actor, rows, errors) -> dict:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    by_code = _units_by_code()
    # Parents first: a file may list a district after its wards.
    order = {UnitLevel.PROVINCE.value: 0, UnitLevel.DISTRICT.value: 1, UnitLevel.COMMUNE.value: 2}
    for row in sorted(rows, key=lambda r: order[r["level"]]):
        parent = None
        if row["parent_code"]:
            parent = _version_on(by_code.get(row["parent_code"], []), row["valid_from"])
            if parent is None:
                errors.add(row["_line"], "parent_code", _("no unit with code %(code)s valid on "
                                                          "that date.", code=row["parent_code"]))
                continue
        versions = by_code.setdefault(row["code"], [])
        unit = next((u for u in versions if u.valid_from == row["valid_from"]), None)
        is_new = unit is None
        unit = unit or AdminUnit()
        _upsert(actor, unit, {"code": row["code"], "name": row["name"], "level": row["level"],
                              "parent_id": parent.id if parent else None,
                              "valid_from": row["valid_from"], "valid_to": row["valid_to"]}, counts)
        if is_new:
            versions.append(unit)
            versions.sort(key=lambda u: u.valid_from)
    return counts


def _stage_agencies(actor, rows, errors) -> dict:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    units = _units_by_code()
    by_code = _agencies_by_code()
    for row in rows:
        unit = None
        if row["unit_code"]:
            unit = _version_on(units.get(row["unit_code"], []), row["valid_from"])
            if unit is None:
                errors.add(row["_line"], "unit_code", _("no unit with code %(code)s valid on "
                                                        "that date.", code=row["unit_code"]))
                continue
        agency = next((a for a in by_code.get(row["code"], [])
                       if a.valid_from == row["valid_from"]), None) or Agency()
        _upsert(actor, agency, {"code": row["code"], "portal_code": row["portal_code"],
                                "name": row["name"], "kind": row["kind"],
                                "admin_unit_id": unit.id if unit else None,
                                "valid_from": row["valid_from"], "valid_to": row["valid_to"]},
                counts)
    return counts


def _stage_successions(actor, rows, errors, by_code, model, old_attr, new_attr) -> dict:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row in rows:
        day = row["effective_date"]
        # The old version is the one still valid the day before the change.
        old = (_version_on(by_code.get(row["old_code"], []), day - timedelta(days=1))
               or _version_on(by_code.get(row["old_code"], []), None))
        new = _version_on(by_code.get(row["new_code"], []), day)
        if old is None:
            errors.add(row["_line"], "old_code", _("unknown code %(code)s.", code=row["old_code"]))
            continue
        if new is None:
            errors.add(row["_line"], "new_code", _("no unit with code %(code)s valid on that "
                                                   "date.", code=row["new_code"]))
            continue
        existing = db.session.scalar(select(model).where(
            getattr(model, old_attr) == old.id, getattr(model, new_attr) == new.id)) or model()
        _upsert(actor, existing, {old_attr: old.id, new_attr: new.id, "share": row["share"],
                                  "effective_date": day}, counts)
    return counts


def _stage_unit_successions(actor, rows, errors) -> dict:
    return _stage_successions(actor, rows, errors, _units_by_code(), AdminUnitSuccession,
                              "old_unit_id", "new_unit_id")


def _stage_agency_successions(actor, rows, errors) -> dict:
    return _stage_successions(actor, rows, errors, _agencies_by_code(), AgencySuccession,
                              "old_agency_id", "new_agency_id")


def _stage_procedures(actor, rows, errors) -> dict:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    agencies = _agencies_by_code()
    existing = {p.code: p for p in db.session.scalars(select(Procedure))}
    for row in rows:
        linked = []
        for code in [c.strip() for c in (row["agency_codes"] or "").split(";") if c.strip()]:
            agency = _version_on(agencies.get(code, []), None)
            if agency is None:
                errors.add(row["_line"], "agency_codes", _("unknown agency code %(code)s.",
                                                           code=code))
            else:
                linked.append(agency)
        procedure = existing.get(row["code"]) or Procedure()
        existing[row["code"]] = procedure
        _upsert(actor, procedure, {"code": row["code"], "name": row["name"],
                                   "field": row["field"], "agencies": linked}, counts)
    return counts
