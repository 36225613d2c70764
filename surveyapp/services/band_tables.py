"""Band tables (issue 9): grade thresholds as data — the tables shipped with the app (rows
without an organisation, seeded by a migration) and an organisation's own.

A scorecard run graded with a table keeps a copy of its ``spec`` (the shape of
``analysis.indices.BandTable.from_dict``); ``analysis`` applies it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ..errors import ValidationFailed
from ..extensions import db
from ..models import Organisation
from ..models.codes import AuditAction
from ..models.index_definitions import BandTable
from . import audit

DEFAULT, NONE = "default", "none"
NAME_MAX = 120
LABEL_MAX = 64


class BandTableInvalid(ValidationFailed):
    """A band table that cannot be stored or used (the message says why); nothing stored."""


def tables_for(organisation_id: int) -> list[BandTable]:
    """The shipped tables, then the organisation's own, by name."""
    return list(db.session.scalars(
        select(BandTable)
        .where(or_(BandTable.organisation_id.is_(None),
                   BandTable.organisation_id == organisation_id))
        .order_by(BandTable.organisation_id.is_not(None), BandTable.name)))


def default_for(index_key: str) -> BandTable | None:
    """The shipped table a built-in index is graded with unless told otherwise."""
    return db.session.scalar(select(BandTable).where(BandTable.organisation_id.is_(None),
                                                     BandTable.default_for == index_key)
                             .order_by(BandTable.id))


def resolve(organisation_id: int, index_key: str, choice: str) -> BandTable | None:
    """The table a run asks for: ``"default"`` (the index's default, if any), ``"none"`` or
    the id of a shipped table or one of the organisation's."""
    if choice == DEFAULT:
        return default_for(index_key)
    if choice == NONE:
        return None
    try:
        table = db.session.get(BandTable, int(choice))
    except (TypeError, ValueError):
        table = None
    if table is None or table.organisation_id not in (None, organisation_id):
        raise BandTableInvalid(_("Choose one of the band tables offered."))
    return table


def library_table(spec: dict):
    """The ``analysis`` object of a stored spec."""
    from analysis.indices import BandTable as Bands

    return Bands.from_dict(spec)


@dataclass(frozen=True)
class Threshold:
    label: str
    lower: float | None


def applied_thresholds(spec: dict, maximum: float | None) -> list[Threshold]:
    """The thresholds as ``analysis`` applies them for a measured ``maximum``."""
    return [Threshold(label, lower)
            for label, lower in library_table(spec).thresholds(maximum)]


# ---- an organisation's own table ---------------------------------------------------------------

def _number(text: str) -> float | None:
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_bands(text: str) -> tuple[list[dict], list[str]]:
    """``"label = lower"`` per line, the highest band first; the last line may be a label
    alone (everything below). Returns (bands, error messages)."""
    bands: list[dict] = []
    errors: list[str] = []
    lines = [(i, line.strip()) for i, line in enumerate((text or "").splitlines(), start=1)
             if line.strip()]
    seen: set[str] = set()
    for k, (number, line) in enumerate(lines):
        label, sep, value = line.rpartition("=")
        if not sep:
            label, value = line, ""
        label = label.strip()
        if not label:
            errors.append(_("Line %(line)d: the band has no name.", line=number))
            continue
        if len(label) > LABEL_MAX:
            errors.append(_("Line %(line)d: a band name has at most %(max)d characters.",
                            line=number, max=LABEL_MAX))
            continue
        if label in seen:
            errors.append(_("Line %(line)d: the band \"%(label)s\" is listed twice.",
                            line=number, label=label))
            continue
        seen.add(label)
        if not value.strip():
            if k != len(lines) - 1:
                errors.append(_("Line %(line)d: only the last band may have no lower "
                                "threshold.", line=number))
                continue
            bands.append({"label": label, "lower": None})
            continue
        lower = _number(value)
        if lower is None:
            errors.append(_("Line %(line)d: the threshold \"%(value)s\" is not a number.",
                            line=number, value=value.strip()))
            continue
        previous = bands[-1]["lower"] if bands else None
        if previous is not None and not lower < previous:
            errors.append(_("Line %(line)d: each threshold must be lower than the one "
                            "above it.", line=number))
            continue
        bands.append({"label": label, "lower": lower})
    if not errors and len(bands) < 2:
        errors.append(_("A band table needs at least two bands."))
    return bands, errors


def create_table(actor, organisation: Organisation, name: str, bands_text: str,
                 reference_max: str = "", scale_to_measured: bool = False) -> BandTable:
    """Store an organisation's own band table (commits once); refuses a bad one in
    Vietnamese with every problem named, storing nothing."""
    name = (name or "").strip()
    fields: dict[str, str] = {}
    errors: list[str] = []
    if not name:
        fields["name"] = _("Enter the name of the band table.")
    elif len(name) > NAME_MAX:
        fields["name"] = _("A name has at most %(max)d characters.", max=NAME_MAX)
    elif any(t.name == name for t in tables_for(organisation.id)):
        fields["name"] = _("There is already a band table with this name.")
    bands, band_errors = parse_bands(bands_text)
    if band_errors:
        fields["bands"] = " ".join(band_errors)
        errors.extend(band_errors)
    maximum = None
    if (reference_max or "").strip():
        maximum = _number(reference_max)
        if maximum is None or maximum <= 0:
            fields["reference_max"] = _("The maximum must be a positive number.")
    elif scale_to_measured:
        fields["reference_max"] = _("Give the maximum the thresholds were written for, to "
                                    "scale them to the maximum measured.")
    if fields:
        raise BandTableInvalid(_("The band table was not stored: correct the fields marked."),
                               errors=[m for k, m in fields.items() if k != "bands"] + errors,
                               fields=fields)
    spec = {"name": name, "bands": bands, "reference_max": maximum,
            "scale_to_measured": bool(scale_to_measured and maximum)}
    table = BandTable(organisation_id=organisation.id, name=name, spec=spec,
                      created_by_id=getattr(actor, "id", None))
    db.session.add(table)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise BandTableInvalid(_("There is already a band table with this name."),
                               fields={"name": _("There is already a band table with this "
                                                 "name.")}) from None
    audit.record(actor, AuditAction.CREATE, table, organisation_id=organisation.id,
                 after={"name": name, "spec": spec}, summary=f"band table {name}")
    db.session.commit()
    return table
