"""Questionnaires in the app: versions, edits, validation, freezing, XLSForm in and out.

The definition itself is the pure core's ``surveyapp.questionnaires.Questionnaire``; a
version stores its ``to_dict()`` as one JSON document with a SHA-256 digest of the
canonical JSON. A draft version is edited in place; a frozen one never changes: an edit
aimed at it makes a new draft (a copy) and changes that. When a campaign starts fielding
(``prepare_fielding``, called by the campaigns service inside its transition) the version
to field is frozen and recorded on the campaign (``Campaign.questionnaire_version_id``).

Every public function that changes something commits once and writes one audit event.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import questionnaires as core
from ..errors import Conflict, NotFound, ValidationFailed
from ..expressions import is_valid_name
from ..extensions import db
from ..models import Campaign, Organisation, Questionnaire, QuestionnaireVersion, User
from ..models.codes import AuditAction, CampaignStatus, QuestionnaireVersionStatus
from . import audit

DRAFT = QuestionnaireVersionStatus.DRAFT.value
FROZEN = QuestionnaireVersionStatus.FROZEN.value
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


# ---- documents ---------------------------------------------------------------------------

def canonical_json(document: dict) -> str:
    """Sorted keys, no insignificant space, UTF-8 text (the digest's input)."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False)


def digest_of(document: dict) -> str:
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def definition(version: QuestionnaireVersion) -> core.Questionnaire:
    """The version's questionnaire as the core's model."""
    return core.Questionnaire.from_dict(version.document)


def problems_of(version: QuestionnaireVersion) -> list[core.Problem]:
    """Errors first, then warnings (the core's ``validate_questionnaire``)."""
    return core.validate_questionnaire(definition(version))


_COMPILED: dict[str, core.CompiledQuestionnaire] = {}
_COMPILED_MAX = 64


def compiled(version: QuestionnaireVersion) -> core.CompiledQuestionnaire:
    """The version compiled for checking answers (issue 7's entry and API), cached by digest:
    a digest names one content, and a frozen version's content never changes. Raises the
    core's QuestionnaireInvalid for a version with errors."""
    found = _COMPILED.get(version.digest)
    if found is None:
        found = core.compile_questionnaire(definition(version))
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.pop(next(iter(_COMPILED)), None)
        _COMPILED[version.digest] = found
    return found


def counts(q: core.Questionnaire) -> tuple[int, int]:
    """(questions, choices) of a definition."""
    return len(q.questions()), sum(len(cl.choices) for cl in q.choice_lists)


# ---- reading -----------------------------------------------------------------------------

def questionnaire_of(campaign: Campaign) -> Questionnaire | None:
    return db.session.scalar(select(Questionnaire).where(Questionnaire.campaign_id == campaign.id))


def versions_of(campaign: Campaign) -> list[QuestionnaireVersion]:
    q = questionnaire_of(campaign)
    return list(q.versions) if q is not None else []


def version_in_use(campaign: Campaign) -> QuestionnaireVersion | None:
    """The frozen version the campaign fields (None before fieldwork starts)."""
    if campaign.questionnaire_version_id is None:
        return None
    return db.session.get(QuestionnaireVersion, campaign.questionnaire_version_id)


def campaign_of(version: QuestionnaireVersion) -> Campaign | None:
    campaign_id = version.questionnaire.campaign_id
    return db.session.get(Campaign, campaign_id) if campaign_id is not None else None


def is_published(version: QuestionnaireVersion) -> bool:
    """Frozen and in use by its campaign: what people outside the organisation may ever see."""
    campaign = campaign_of(version)
    return (version.status == FROZEN and campaign is not None
            and campaign.questionnaire_version_id == version.id)


def copy_sources(organisation: Organisation, exclude: Questionnaire | None = None
                 ) -> list[QuestionnaireVersion]:
    """Versions of the organisation's other questionnaires that may be copied."""
    query = (select(QuestionnaireVersion).join(Questionnaire)
             .where(Questionnaire.organisation_id == organisation.id)
             .order_by(Questionnaire.id.desc(), QuestionnaireVersion.number.desc()))
    if exclude is not None:
        query = query.where(Questionnaire.id != exclude.id)
    return list(db.session.scalars(query))


# ---- creating versions -------------------------------------------------------------------

def _summary(q: core.Questionnaire) -> dict:
    n_questions, n_choices = counts(q)
    return {"name": q.name, "questions": n_questions, "choices": n_choices}


def _ensure_questionnaire(actor: User | None, campaign: Campaign, title: str) -> Questionnaire:
    q = questionnaire_of(campaign)
    if q is None:
        q = Questionnaire(organisation_id=campaign.organisation_id, campaign_id=campaign.id,
                          title=(title or campaign.title)[:200],
                          created_by_id=actor.id if actor else None)
        db.session.add(q)
        db.session.flush()
        audit.record(actor, AuditAction.CREATE, q, after=audit.snapshot(q),
                     organisation_id=q.organisation_id, summary=q.title)
    return q


def _lock(q: Questionnaire) -> None:
    """Serialise version numbering per questionnaire (row lock on PostgreSQL; SQLite's
    BEGIN IMMEDIATE already serialises writers)."""
    db.session.execute(select(Questionnaire.id).where(Questionnaire.id == q.id)
                       .with_for_update())


def _new_version(actor: User | None, q: Questionnaire, definition_: core.Questionnaire,
                 source: str, note: str = "",
                 based_on: QuestionnaireVersion | None = None) -> QuestionnaireVersion:
    _lock(q)
    number = (db.session.scalar(select(func.max(QuestionnaireVersion.number))
                                .where(QuestionnaireVersion.questionnaire_id == q.id)) or 0) + 1
    document = definition_.to_dict()
    version = QuestionnaireVersion(
        questionnaire_id=q.id, number=number, status=DRAFT, document=document,
        digest=digest_of(document), source=source, note=note[:255],
        based_on_id=based_on.id if based_on is not None else None,
        created_by_id=actor.id if actor else None)
    db.session.add(version)
    db.session.flush()
    db.session.refresh(q)  # versions list now includes the new one
    return version


def _record_version(actor: User | None, action: AuditAction, version: QuestionnaireVersion,
                    summary: str, before: dict | None = None, extra: dict | None = None) -> None:
    after = {"number": version.number, "status": version.status, "digest": version.digest,
             **(extra or {})}
    audit.record(actor, action, version, before=before, after=after,
                 organisation_id=version.questionnaire.organisation_id, summary=summary)


def create_from_template(actor: User | None, campaign: Campaign) -> QuestionnaireVersion:
    """A new draft version holding the standard citizen-satisfaction questionnaire."""
    template = core.standard_template()
    q = _ensure_questionnaire(actor, campaign, template.title.get("vi", ""))
    version = _new_version(actor, q, template, "template", _("Standard template"))
    _record_version(actor, AuditAction.CREATE, version,
                    _("Version %(n)s from the standard template", n=version.number),
                    extra=_summary(template))
    db.session.commit()
    return version


def create_blank(actor: User | None, campaign: Campaign) -> QuestionnaireVersion:
    """A new, empty draft version (one empty section) to build from scratch."""
    blank = core.Questionnaire(
        name=f"campaign_{campaign.id}", title={"vi": campaign.title[:200]},
        children=[core.Group(name="section_1", label={"vi": "Phần 1", "en": "Part 1"})])
    q = _ensure_questionnaire(actor, campaign, campaign.title)
    version = _new_version(actor, q, blank, "blank")
    _record_version(actor, AuditAction.CREATE, version,
                    _("Version %(n)s, empty", n=version.number), extra=_summary(blank))
    db.session.commit()
    return version


def copy_version(actor: User | None, source: QuestionnaireVersion,
                 campaign: Campaign | None = None) -> QuestionnaireVersion:
    """Copy a version into a new draft: of the same questionnaire, or of ``campaign``'s."""
    if campaign is None:
        target = source.questionnaire
    else:
        if source.questionnaire.organisation_id != campaign.organisation_id:
            raise NotFound(_("That questionnaire version does not exist."))
        target = _ensure_questionnaire(actor, campaign, source.questionnaire.title)
    definition_ = definition(source)
    note = _("Copy of version %(n)s", n=source.number) if target.id == source.questionnaire_id \
        else _("Copy of “%(title)s”, version %(n)s", title=source.questionnaire.title,
               n=source.number)
    version = _new_version(actor, target, definition_, "copy", note, based_on=source)
    _record_version(actor, AuditAction.CREATE, version, note,
                    extra={"based_on": source.id, "based_on_digest": source.digest})
    db.session.commit()
    return version


@dataclass
class ImportResult:
    """What ``import-xlsform`` prints (and the upload page shows)."""

    questionnaire_id: int
    version_id: int
    questions: int
    choices: int
    warnings: list[str] = field(default_factory=list)
    version: QuestionnaireVersion | None = None

    def to_dict(self) -> dict:
        return {"questionnaire_id": self.questionnaire_id, "version_id": self.version_id,
                "questions": self.questions, "choices": self.choices,
                "warnings": list(self.warnings)}


def problem_text(problem: core.XLSFormProblem) -> str:
    """A problem of an XLSForm, its place in the user's language, then the reader's message."""
    where = []
    if problem.sheet:
        where.append(_("sheet “%(sheet)s”", sheet=problem.sheet))
    if problem.row:
        where.append(_("row %(row)s", row=problem.row))
    if problem.column:
        column = f"{problem.column_letter} “{problem.column}”" if problem.column_letter \
            else f"“{problem.column}”"
        where.append(_("column %(column)s", column=column))
    return (", ".join(where) + ": " if where else "") + problem.message


def read_upload(data: bytes, filename: str | None) -> tuple[core.Questionnaire, list[str]]:
    """Read an XLSForm workbook or refuse it with one message per problem (sheet/row/column)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(_("The file is too large (at most %(mb)s MB).",
                                 mb=MAX_UPLOAD_BYTES // (1024 * 1024)))
    try:
        definition_, warnings = core.read_xlsform(data, filename=filename or None)
    except core.XLSFormError as exc:
        lines = [problem_text(p) for p in exc.problems] or [str(exc)]
        if not data.startswith(b"PK\x03\x04"):
            message = _("The file is not an Excel .xlsx workbook (or it is empty); save the "
                        "form as .xlsx and try again.")
        else:
            message = _("The XLSForm cannot be imported; nothing was stored. Problems found: "
                        "%(n)s.", n=len(exc.problems))
        raise ValidationFailed(message, errors=lines) from None
    return definition_, [problem_text(w) for w in warnings]


def import_xlsform(actor: User | None, campaign: Campaign, data: bytes,
                   filename: str | None = None) -> ImportResult:
    """A new draft version of the campaign's questionnaire from an XLSForm workbook.

    Never touches an existing version: into a fielding campaign it makes a new draft and the
    version in use stays as it is. A bad file stores nothing (ValidationFailed lists why).
    """
    definition_, warnings = read_upload(data, filename)
    q = _ensure_questionnaire(actor, campaign, definition_.title.get("vi") or
                              definition_.title.get("en") or campaign.title)
    version = _new_version(actor, q, definition_, "xlsform", filename or "")
    n_questions, n_choices = counts(definition_)
    _record_version(actor, AuditAction.IMPORT, version,
                    _("Version %(n)s imported from XLSForm", n=version.number),
                    extra={**_summary(definition_), "filename": filename or "",
                           "warnings": len(warnings)})
    db.session.commit()
    return ImportResult(q.id, version.id, n_questions, n_choices, warnings, version)


def export_xlsform(version: QuestionnaireVersion) -> bytes:
    out = io.BytesIO()
    core.write_xlsform(definition(version), out)
    return out.getvalue()


def export_filename(version: QuestionnaireVersion) -> str:
    name = version.document.get("name") or "questionnaire"
    return f"{name}_v{version.number}.xlsx"


# ---- freezing ----------------------------------------------------------------------------

def _refuse_if_invalid(version: QuestionnaireVersion, message: str, kind=ValidationFailed):
    found = core.errors(problems_of(version))
    if found:
        lines = [p.text("vi") for p in found]
        if kind is ValidationFailed:
            raise ValidationFailed(message, errors=lines)
        raise kind(message + " " + "; ".join(lines[:5]))


def _freeze(actor: User | None, version: QuestionnaireVersion) -> None:
    from ..models._types import utcnow

    version.status = FROZEN
    version.frozen_at = utcnow()
    version.frozen_by_id = actor.id if actor else None


def freeze_version(actor: User | None, version: QuestionnaireVersion) -> QuestionnaireVersion:
    """Freeze a draft that has no errors. If its campaign is fielding, it becomes the version
    in use (the previous one stays frozen; interviews keep pointing at the one they used)."""
    db.session.refresh(version, with_for_update=True)
    if version.status == FROZEN:
        raise Conflict(_("Version %(n)s is already frozen.", n=version.number))
    _refuse_if_invalid(version, _("Version %(n)s has errors and cannot be frozen.",
                                  n=version.number))
    _freeze(actor, version)
    campaign = campaign_of(version)
    extra = {}
    if campaign is not None and campaign.status == CampaignStatus.FIELDING:
        extra = {"campaign_id": campaign.id, "previous_in_use": campaign.questionnaire_version_id}
        campaign.questionnaire_version_id = version.id
    db.session.flush()
    _record_version(actor, AuditAction.STATE, version,
                    _("Version %(n)s frozen", n=version.number), before={"status": DRAFT},
                    extra=extra)
    db.session.commit()
    return version


def prepare_fielding(actor: User | None, campaign: Campaign) -> QuestionnaireVersion | None:
    """Called by the campaigns service when fieldwork starts, inside its transaction (no
    commit here): the version in use is the latest one, frozen now if still a draft.

    A campaign already holding a version in use (fieldwork resumed) keeps it. A campaign
    without any questionnaire may still start (the version in use is then recorded when a
    version is frozen); a draft with errors stops the transition.
    """
    from ..errors import InvalidTransition

    current = version_in_use(campaign)
    if current is not None:
        return current
    q = questionnaire_of(campaign)
    if q is None or q.latest is None:
        return None
    version = q.latest
    if version.status == DRAFT:
        _refuse_if_invalid(version, _("The questionnaire (version %(n)s) has errors; correct "
                                      "them before fieldwork starts.", n=version.number),
                           kind=InvalidTransition)
        _freeze(actor, version)
    campaign.questionnaire_version_id = version.id
    db.session.flush()
    _record_version(actor, AuditAction.STATE, version,
                    _("Version %(n)s frozen: in use for fieldwork", n=version.number),
                    before={"status": DRAFT}, extra={"campaign_id": campaign.id})
    return version


# ---- editing -----------------------------------------------------------------------------

@dataclass(frozen=True)
class SectionData:
    name: str
    label_vi: str
    label_en: str = ""
    relevant: str = ""


@dataclass(frozen=True)
class QuestionData:
    name: str
    type: str
    label_vi: str = ""
    label_en: str = ""
    hint_vi: str = ""
    hint_en: str = ""
    required: bool = False
    relevant: str = ""
    constraint: str = ""
    constraint_message_vi: str = ""
    constraint_message_en: str = ""
    calculation: str = ""
    list_name: str = ""
    minimum: float | int | None = None
    maximum: float | int | None = None
    allow_na: bool = False
    allow_dk: bool = False
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ChoiceData:
    code: str
    label_vi: str
    label_en: str = ""
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SettingsData:
    name: str
    title_vi: str
    title_en: str = ""


def _text(vi: str, en: str) -> dict:
    return {k: v.strip() for k, v in (("vi", vi or ""), ("en", en or "")) if v and v.strip()}


def _number(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _siblings(d: core.Questionnaire, name: str) -> tuple[list, int]:
    """The list holding the item called ``name`` and its index there."""
    for item, ancestors in d.walk():
        if item.name == name:
            holder = ancestors[-1].children if ancestors else d.children
            return holder, holder.index(item)
    raise NotFound(_("There is no question or section “%(name)s”.", name=name))


def _group(d: core.Questionnaire, name: str) -> core.Group:
    item = d.find(name)
    if not isinstance(item, core.Group):
        raise NotFound(_("There is no section “%(name)s”.", name=name))
    return item


def _choice_list(d: core.Questionnaire, name: str) -> core.ChoiceList:
    cl = d.choice_list(name)
    if cl is None:
        raise NotFound(_("There is no choice list “%(name)s”.", name=name))
    return cl


def _check_name_free(d: core.Questionnaire, name: str, field_name: str = "name") -> None:
    if d.find(name) is not None:
        message = _("The name “%(name)s” is already used in this questionnaire.", name=name)
        raise ValidationFailed(message, fields={field_name: message})


def _check_expressions(d: core.Questionnaire, name: str) -> None:
    """Refuse syntax errors in the expressions just entered (other problems — e.g. a
    reference to a question not written yet — are listed on the version page)."""
    fields_ = {}
    for problem in core.validate_questionnaire(d):
        if problem.is_error and problem.name == name and problem.code in (
                "syntax", "bad_current", "bad_name"):
            fields_.setdefault(problem.field or "name", problem.text("vi"))
    if fields_:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=fields_)


def _question_from(data: QuestionData) -> core.Question:
    if data.type not in core.QUESTION_TYPES:
        message = _("Unknown question type.")
        raise ValidationFailed(message, fields={"type": message})
    return core.Question(
        name=data.name.strip(), type=data.type,
        label=_text(data.label_vi, data.label_en), hint=_text(data.hint_vi, data.hint_en),
        required=bool(data.required), relevant=data.relevant or None,
        constraint=data.constraint or None,
        constraint_message=_text(data.constraint_message_vi, data.constraint_message_en),
        calculation=data.calculation or None,
        list_name=(data.list_name or None) if data.type in core.CHOICE_TYPES else None,
        minimum=_number(data.minimum), maximum=_number(data.maximum),
        allow_na=bool(data.allow_na), allow_dk=bool(data.allow_dk),
        metadata=copy.deepcopy(data.metadata or {}))


def _check_code(code: str) -> None:
    if code in core.RESERVED_CODES:
        message = _("The codes “na” and “dk” are reserved for “not applicable” and “don't "
                    "know”; turn them on in the question instead.")
        raise ValidationFailed(message, fields={"code": message})
    if not code or any(c.isspace() for c in code):
        message = _("A code needs 1 to 64 characters without spaces.")
        raise ValidationFailed(message, fields={"code": message})


def _edit(actor: User | None, version: QuestionnaireVersion, summary: str,
          change: Callable[[core.Questionnaire], None]) -> QuestionnaireVersion:
    """Apply ``change`` to the version's definition and store it, once.

    A frozen version is never changed: the edit goes into a new draft copied from it. The
    row is re-read under a lock first, so two people editing the same draft at once never
    lose each other's changes (PostgreSQL; SQLite serialises writers anyway).
    """
    db.session.refresh(version, with_for_update=True)
    d = definition(version)
    change(d)
    target = version
    if version.status == FROZEN:
        target = _new_version(actor, version.questionnaire, definition(version), "edit",
                              _("Edited copy of version %(n)s", n=version.number),
                              based_on=version)
    before = {"digest": target.digest}
    document = d.to_dict()
    if document == target.document:
        return target  # nothing changed: no write, no audit event
    target.document = document
    target.digest = digest_of(document)
    db.session.flush()
    _record_version(actor, AuditAction.UPDATE, target, summary, before=before)
    db.session.commit()
    return target


def update_settings(actor, version, data: SettingsData) -> QuestionnaireVersion:
    def change(d):
        d.name = data.name.strip()
        d.title = _text(data.title_vi, data.title_en)
        if not is_valid_name(d.name):
            message = _("Start with a letter or “_”, then letters a-z, digits, “_”, “.” or "
                        "“-” (at most 64).")
            raise ValidationFailed(message, fields={"name": message})
    return _edit(actor, version, _("Settings changed"), change)


def add_section(actor, version, data: SectionData, after: str | None = None
                ) -> QuestionnaireVersion:
    def change(d):
        _check_name_free(d, data.name.strip())
        group = core.Group(name=data.name.strip(), label=_text(data.label_vi, data.label_en),
                           relevant=data.relevant or None)
        d.children.append(group)
        _check_expressions(d, group.name)
    return _edit(actor, version, _("Section “%(name)s” added", name=data.name), change)


def update_section(actor, version, name: str, data: SectionData) -> QuestionnaireVersion:
    def change(d):
        group = _group(d, name)
        new_name = data.name.strip()
        if new_name != name:
            _check_name_free(d, new_name)
        group.name = new_name
        group.label = _text(data.label_vi, data.label_en)
        group.relevant = data.relevant or None
        _check_expressions(d, new_name)
    return _edit(actor, version, _("Section “%(name)s” changed", name=name), change)


def add_question(actor, version, section: str | None, data: QuestionData
                 ) -> QuestionnaireVersion:
    def change(d):
        question = _question_from(data)
        _check_name_free(d, question.name)
        holder = _group(d, section).children if section else d.children
        holder.append(question)
        _check_expressions(d, question.name)
    return _edit(actor, version, _("Question “%(name)s” added", name=data.name), change)


def parent_of(d: core.Questionnaire, name: str) -> str:
    """The name of the section holding ``name`` ("" at the top level)."""
    for item, ancestors in d.walk():
        if item.name == name:
            return ancestors[-1].name if ancestors else ""
    raise NotFound(_("There is no question or section “%(name)s”.", name=name))


def update_question(actor, version, name: str, data: QuestionData,
                    section: str | None = None) -> QuestionnaireVersion:
    """Change a question; with ``section`` (a section name, "" for the top level) it also
    moves to the end of that section."""
    def change(d):
        holder, index = _siblings(d, name)
        if not isinstance(holder[index], core.Question):
            raise NotFound(_("There is no question “%(name)s”.", name=name))
        question = _question_from(data)
        if question.name != name:
            _check_name_free(d, question.name)
        if section is None or section == parent_of(d, name):
            holder[index] = question
        else:
            target = _group(d, section).children if section else d.children
            del holder[index]
            target.append(question)
        _check_expressions(d, question.name)
    return _edit(actor, version, _("Question “%(name)s” changed", name=name), change)


def move_item(actor, version, name: str, direction: int) -> QuestionnaireVersion:
    """Move a question or section one place up (-1) or down (+1) among its siblings."""
    def change(d):
        holder, index = _siblings(d, name)
        other = index + (1 if direction > 0 else -1)
        if 0 <= other < len(holder):
            holder[index], holder[other] = holder[other], holder[index]
    return _edit(actor, version, _("“%(name)s” moved", name=name), change)


def delete_item(actor, version, name: str) -> QuestionnaireVersion:
    """Delete a question, or a section with everything in it."""
    def change(d):
        holder, index = _siblings(d, name)
        del holder[index]
    return _edit(actor, version, _("“%(name)s” deleted", name=name), change)


def add_choice_list(actor, version, name: str) -> QuestionnaireVersion:
    def change(d):
        if d.choice_list(name.strip()) is not None:
            message = _("There is already a choice list “%(name)s”.", name=name)
            raise ValidationFailed(message, fields={"name": message})
        d.choice_lists.append(core.ChoiceList(name=name.strip(), choices=[]))
    return _edit(actor, version, _("Choice list “%(name)s” added", name=name), change)


def rename_choice_list(actor, version, name: str, new_name: str) -> QuestionnaireVersion:
    """Rename a list; the questions using it follow."""
    def change(d):
        cl = _choice_list(d, name)
        new = new_name.strip()
        if new != name and d.choice_list(new) is not None:
            message = _("There is already a choice list “%(name)s”.", name=new)
            raise ValidationFailed(message, fields={"name": message})
        cl.name = new
        for question in d.questions():
            if question.list_name == name:
                question.list_name = new
    return _edit(actor, version, _("Choice list “%(name)s” renamed", name=name), change)


def delete_choice_list(actor, version, name: str) -> QuestionnaireVersion:
    def change(d):
        cl = _choice_list(d, name)
        users = [q.name for q in d.questions() if q.list_name == name]
        if users:
            raise ValidationFailed(_("The choice list “%(name)s” is used by: %(questions)s.",
                                     name=name, questions=", ".join(users)))
        d.choice_lists.remove(cl)
    return _edit(actor, version, _("Choice list “%(name)s” deleted", name=name), change)


def add_choice(actor, version, list_name: str, data: ChoiceData) -> QuestionnaireVersion:
    def change(d):
        cl = _choice_list(d, list_name)
        code = data.code.strip()
        _check_code(code)
        if cl.get(code) is not None:
            message = _("The code “%(code)s” is already in this list.", code=code)
            raise ValidationFailed(message, fields={"code": message})
        cl.choices.append(core.Choice(code=code, label=_text(data.label_vi, data.label_en),
                                      metadata=copy.deepcopy(data.metadata or {})))
    return _edit(actor, version, _("Choice “%(code)s” added to “%(name)s”", code=data.code,
                                   name=list_name), change)


def update_choice(actor, version, list_name: str, code: str, data: ChoiceData
                  ) -> QuestionnaireVersion:
    def change(d):
        cl = _choice_list(d, list_name)
        choice = cl.get(code)
        if choice is None:
            raise NotFound(_("There is no choice “%(code)s”.", code=code))
        new_code = data.code.strip()
        _check_code(new_code)
        if new_code != code and cl.get(new_code) is not None:
            message = _("The code “%(code)s” is already in this list.", code=new_code)
            raise ValidationFailed(message, fields={"code": message})
        index = cl.choices.index(choice)
        cl.choices[index] = core.Choice(code=new_code,
                                        label=_text(data.label_vi, data.label_en),
                                        metadata=copy.deepcopy(data.metadata or {}))
    return _edit(actor, version, _("Choice “%(code)s” of “%(name)s” changed", code=code,
                                   name=list_name), change)


def move_choice(actor, version, list_name: str, code: str, direction: int
                ) -> QuestionnaireVersion:
    def change(d):
        cl = _choice_list(d, list_name)
        choice = cl.get(code)
        if choice is None:
            raise NotFound(_("There is no choice “%(code)s”.", code=code))
        index = cl.choices.index(choice)
        other = index + (1 if direction > 0 else -1)
        if 0 <= other < len(cl.choices):
            cl.choices[index], cl.choices[other] = cl.choices[other], cl.choices[index]
    return _edit(actor, version, _("Choice “%(code)s” moved", code=code), change)


def delete_choice(actor, version, list_name: str, code: str) -> QuestionnaireVersion:
    def change(d):
        cl = _choice_list(d, list_name)
        choice = cl.get(code)
        if choice is None:
            raise NotFound(_("There is no choice “%(code)s”.", code=code))
        cl.choices.remove(choice)
    return _edit(actor, version, _("Choice “%(code)s” deleted from “%(name)s”", code=code,
                                   name=list_name), change)


# ---- what pages show ---------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """One line of the builder's outline: a section or a question, with its depth."""

    item: object
    depth: int
    parent: str | None
    first: bool
    last: bool


def outline(d: core.Questionnaire) -> list[Row]:
    rows: list[Row] = []

    def visit(items, depth, parent):
        for i, item in enumerate(items):
            rows.append(Row(item, depth, parent, i == 0, i == len(items) - 1))
            if isinstance(item, core.Group):
                visit(item.children, depth + 1, item.name)
    visit(d.children, 0, None)
    return rows


def find_question(d: core.Questionnaire, name: str):
    item = d.find(name)
    if item is None:
        raise NotFound(_("There is no question or section “%(name)s”.", name=name))
    return item


def find_choice(d: core.Questionnaire, list_name: str, code: str) -> core.Choice:
    choice = _choice_list(d, list_name).get(code)
    if choice is None:
        raise NotFound(_("There is no choice “%(code)s”.", code=code))
    return choice


def choice_list_of(d: core.Questionnaire, list_name: str) -> core.ChoiceList:
    return _choice_list(d, list_name)
