"""The questionnaire builder: a campaign's versions, editing a draft, preview, XLSForm in/out.

Org admins and analysts of the owning organisation edit; its supervisors and interviewers
view and preview; nobody else sees a questionnaire that is not published (policy rules
``questionnaire.list`` / ``.view`` / ``.edit``). Item names, list names and choice codes in
URLs are read from ``request.view_args`` (``@requires`` passes only the loaded version).
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from .. import questionnaires as core
from ..auth.policy import can, requires
from ..errors import DomainError
from ..extensions import db
from ..forms.questionnaires import (
    ActionForm,
    ChoiceForm,
    ChoiceListForm,
    CopyForm,
    ImportForm,
    QuestionForm,
    SectionForm,
    SettingsForm,
)
from ..models import QuestionnaireVersion
from ..models.codes import QUESTIONNAIRE_VERSION_STATUS_LABELS
from ..services import questionnaires as service
from ._helpers import actor, load_campaign, show_domain_error

bp = Blueprint("questionnaires", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def load_version(version_id: int, **_names) -> QuestionnaireVersion:
    """The version named by the URL (item names, list names, codes are read by the view)."""
    return db.get_or_404(QuestionnaireVersion, version_id)


def _arg(name: str) -> str:
    return (request.view_args or {}).get(name, "")


def _lang() -> str:
    return "en" if str(get_locale()) == "en" else "vi"


def _to_version(version: QuestionnaireVersion, anchor: str = ""):
    return redirect(url_for("questionnaires.version", version_id=version.id) +
                    (f"#{anchor}" if anchor else ""))


def _done(edited: QuestionnaireVersion, original: QuestionnaireVersion, message: str,
          anchor: str = ""):
    if edited.id != original.id:
        flash(_("Version %(old)s is frozen; your change went into the new draft version "
                "%(new)s.", old=original.number, new=edited.number), "info")
    else:
        flash(message, "success")
    return _to_version(edited, anchor)


def _definition(version: QuestionnaireVersion) -> core.Questionnaire:
    return service.definition(version)


# ---- a campaign's questionnaire ------------------------------------------------------------

@bp.route("/campaigns/<int:campaign_id>/questionnaire")
@requires("questionnaire.list", load_campaign)
def index(campaign):
    """The campaign's questionnaire versions, and ways to make a new one."""
    q = service.questionnaire_of(campaign)
    versions = list(reversed(q.versions)) if q is not None else []
    copy_form = CopyForm()
    sources = service.copy_sources(campaign.organisation, exclude=q) + \
        (list(reversed(q.versions)) if q is not None else [])
    copy_form.source.choices = [(v.id, f"{v.questionnaire.title} — v{v.number}")
                                for v in sources]
    return render_template("questionnaires/index.html", campaign=campaign, questionnaire=q,
                           versions=versions, copy_form=copy_form, action_form=ActionForm(),
                           status_labels=QUESTIONNAIRE_VERSION_STATUS_LABELS,
                           can_edit=can("questionnaire.edit", campaign))


@bp.route("/campaigns/<int:campaign_id>/questionnaire/template", methods=["POST"])
@requires("questionnaire.edit", load_campaign)
def from_template(campaign):
    """A new draft version from the standard citizen-satisfaction questionnaire."""
    if ActionForm().validate_on_submit():
        version = service.create_from_template(actor(), campaign)
        flash(_("Version %(n)s created from the standard template.", n=version.number),
              "success")
        return _to_version(version)
    flash(_("The form expired; please try again."), "danger")
    return redirect(url_for("questionnaires.index", campaign_id=campaign.id))


@bp.route("/campaigns/<int:campaign_id>/questionnaire/blank", methods=["POST"])
@requires("questionnaire.edit", load_campaign)
def blank(campaign):
    """A new, empty draft version."""
    if ActionForm().validate_on_submit():
        version = service.create_blank(actor(), campaign)
        flash(_("Version %(n)s created.", n=version.number), "success")
        return _to_version(version)
    flash(_("The form expired; please try again."), "danger")
    return redirect(url_for("questionnaires.index", campaign_id=campaign.id))


@bp.route("/campaigns/<int:campaign_id>/questionnaire/copy", methods=["POST"])
@requires("questionnaire.edit", load_campaign)
def copy(campaign):
    """Copy a version of one of the organisation's questionnaires into a new draft."""
    form = CopyForm()
    q = service.questionnaire_of(campaign)
    sources = service.copy_sources(campaign.organisation, exclude=q) + \
        (list(q.versions) if q is not None else [])
    form.source.choices = [(v.id, str(v.id)) for v in sources]
    if form.validate_on_submit():
        source = next(v for v in sources if v.id == form.source.data)
        version = service.copy_version(actor(), source, campaign)
        flash(_("Version %(n)s created as a copy.", n=version.number), "success")
        return _to_version(version)
    flash(_("Choose a version to copy."), "danger")
    return redirect(url_for("questionnaires.index", campaign_id=campaign.id))


@bp.route("/campaigns/<int:campaign_id>/questionnaire/import", methods=["GET", "POST"])
@requires("questionnaire.edit", load_campaign)
def import_xlsform(campaign):
    """Upload an XLSForm workbook: a new draft version, or the precise reasons it is refused."""
    form = ImportForm()
    problems: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            result = service.import_xlsform(actor(), campaign, upload.read(),
                                            upload.filename or None)
        except DomainError as exc:
            form.file.errors = [*form.file.errors, exc.message]
            problems = list(getattr(exc, "errors", []))
        else:
            flash(_("Version %(n)s imported: %(q)s questions, %(c)s choices.",
                    n=result.version.number, q=result.questions, c=result.choices), "success")
            for warning in result.warnings[:30]:
                flash(warning, "warning")
            return _to_version(result.version)
    return render_template("questionnaires/import.html", campaign=campaign, form=form,
                           problems=problems)


# ---- one version ---------------------------------------------------------------------------

@bp.route("/questionnaires/versions/<int:version_id>")
@requires("questionnaire.view", load_version)
def version(version):
    """A version: its outline, choice lists and problems; editing controls on a draft."""
    d = _definition(version)
    campaign = service.campaign_of(version)
    problems = core.validate_questionnaire(d)
    return render_template(
        "questionnaires/version.html", version=version, d=d, campaign=campaign,
        rows=service.outline(d), problems=problems, lang=_lang(),
        errors_count=len(core.errors(problems)), types=core.QUESTION_TYPES,
        in_use=campaign is not None and campaign.questionnaire_version_id == version.id,
        can_edit=can("questionnaire.edit", version), action_form=ActionForm(),
        status_labels=QUESTIONNAIRE_VERSION_STATUS_LABELS, counts=service.counts(d))


@bp.route("/questionnaires/versions/<int:version_id>/preview")
@requires("questionnaire.view", load_version)
def preview(version):
    """The form as an interviewer sees it on a phone (skip logic and checks run live)."""
    d = _definition(version)
    return render_template("questionnaires/preview.html", version=version, d=d,
                           campaign=service.campaign_of(version), document=d.to_dict(),
                           lang=_lang())


@bp.route("/questionnaires/versions/<int:version_id>/export.xlsx")
@requires("questionnaire.view", load_version)
def export(version):
    """Download the version as an XLSForm workbook."""
    return Response(service.export_xlsform(version), mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="{service.export_filename(version)}"'})


@bp.route("/questionnaires/versions/<int:version_id>/freeze", methods=["POST"])
@requires("questionnaire.edit", load_version)
def freeze(version):
    """Freeze a draft without errors (in a fielding campaign it becomes the version in use)."""
    if ActionForm().validate_on_submit():
        try:
            service.freeze_version(actor(), version)
        except DomainError as exc:
            show_domain_error(None, exc)
        else:
            flash(_("Version %(n)s is frozen.", n=version.number), "success")
    return _to_version(version)


@bp.route("/questionnaires/versions/<int:version_id>/new-draft", methods=["POST"])
@requires("questionnaire.edit", load_version)
def new_draft(version):
    """Copy the version into a new draft of the same questionnaire."""
    if ActionForm().validate_on_submit():
        draft = service.copy_version(actor(), version)
        flash(_("Draft version %(n)s created.", n=draft.number), "success")
        return _to_version(draft)
    return _to_version(version)


def _form_page(version, form, title: str, **extra):
    return render_template("questionnaires/form.html", version=version, form=form, title=title,
                           **extra)


@bp.route("/questionnaires/versions/<int:version_id>/settings", methods=["GET", "POST"])
@requires("questionnaire.edit", load_version)
def settings(version):
    """The questionnaire's machine name and title."""
    d = _definition(version)
    form = SettingsForm(data=None if request.method == "POST" else {
        "name": d.name, "title_vi": d.title.get("vi", ""), "title_en": d.title.get("en", "")})
    if form.validate_on_submit():
        try:
            edited = service.update_settings(actor(), version, service.SettingsData(
                form.name.data, form.title_vi.data, form.title_en.data or ""))
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            return _done(edited, version, _("Changes saved."))
    return _form_page(version, form, _("Questionnaire settings"))


def _section_data(form: SectionForm) -> service.SectionData:
    return service.SectionData(form.name.data.strip(), form.label_vi.data or "",
                               form.label_en.data or "", (form.relevant.data or "").strip())


@bp.route("/questionnaires/versions/<int:version_id>/sections/new", methods=["GET", "POST"])
@requires("questionnaire.edit", load_version)
def add_section(version):
    """Add a section (a page on the phone) at the end."""
    form = SectionForm()
    if form.validate_on_submit():
        try:
            edited = service.add_section(actor(), version, _section_data(form))
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            return _done(edited, version, _("Section added."), form.name.data.strip())
    return _form_page(version, form, _("New section"))


def _question_form(version, d: core.Questionnaire, data=None) -> QuestionForm:
    form = QuestionForm(data=data)
    form.type.choices = [(code, names[0] if _lang() == "vi" else names[1])
                         for code, names in core.QUESTION_TYPES.items()]
    form.list_name.choices = [("", "—")] + [(cl.name, cl.name) for cl in d.choice_lists]
    form.section.choices = [("", _("(top level)"))] + [
        (g.name, f"{g.name} — {g.label.get(_lang()) or g.label.get('vi', '')}")
        for g in d.groups()]
    return form


def _question_data(form: QuestionForm) -> service.QuestionData:
    def text(f):
        return (f.data or "").strip()
    return service.QuestionData(
        name=text(form.name), type=form.type.data, label_vi=text(form.label_vi),
        label_en=text(form.label_en), hint_vi=text(form.hint_vi), hint_en=text(form.hint_en),
        required=form.required.data, relevant=text(form.relevant),
        constraint=text(form.constraint),
        constraint_message_vi=text(form.constraint_message_vi),
        constraint_message_en=text(form.constraint_message_en),
        calculation=text(form.calculation), list_name=form.list_name.data or "",
        minimum=form.minimum.data, maximum=form.maximum.data, allow_na=form.allow_na.data,
        allow_dk=form.allow_dk.data, metadata=getattr(form.metadata, "parsed", {}))


@bp.route("/questionnaires/versions/<int:version_id>/questions/new", methods=["GET", "POST"])
@requires("questionnaire.edit", load_version)
def add_question(version):
    """Add a question at the end of a section (``?section=NAME``) or of the questionnaire."""
    d = _definition(version)
    section = request.args.get("section", "")
    form = _question_form(version, d, None if request.method == "POST" else {
        "section": section, "type": "select_one"})
    if form.validate_on_submit():
        try:
            edited = service.add_question(actor(), version, form.section.data or None,
                                          _question_data(form))
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            return _done(edited, version, _("Question added."), form.name.data.strip())
    return _form_page(version, form, _("New question"), question_form=True)


@bp.route("/questionnaires/versions/<int:version_id>/items/<item_name>/edit",
          methods=["GET", "POST"])
@requires("questionnaire.edit", load_version)
def edit_item(version):
    """Edit a section or a question."""
    d = _definition(version)
    name = _arg("item_name")
    item = service.find_question(d, name)  # NotFound: the 404 page
    if isinstance(item, core.Group):
        form = SectionForm(data=None if request.method == "POST" else {
            "name": item.name, "label_vi": item.label.get("vi", ""),
            "label_en": item.label.get("en", ""), "relevant": item.relevant or ""})
        if form.validate_on_submit():
            try:
                edited = service.update_section(actor(), version, name, _section_data(form))
            except DomainError as exc:
                show_domain_error(form, exc)
            else:
                return _done(edited, version, _("Changes saved."), form.name.data.strip())
        return _form_page(version, form, _("Section “%(name)s”", name=name))
    form = _question_form(version, d, None if request.method == "POST" else {
        "name": item.name, "type": item.type, "label_vi": item.label.get("vi", ""),
        "label_en": item.label.get("en", ""), "hint_vi": item.hint.get("vi", ""),
        "hint_en": item.hint.get("en", ""), "required": item.required,
        "relevant": item.relevant or "", "constraint": item.constraint or "",
        "constraint_message_vi": item.constraint_message.get("vi", ""),
        "constraint_message_en": item.constraint_message.get("en", ""),
        "calculation": item.calculation or "", "list_name": item.list_name or "",
        "minimum": item.minimum, "maximum": item.maximum, "allow_na": item.allow_na,
        "allow_dk": item.allow_dk,
        "metadata": json.dumps(item.metadata, ensure_ascii=False) if item.metadata else "",
        "section": service.parent_of(d, name)})
    if form.validate_on_submit():
        try:
            edited = service.update_question(actor(), version, name, _question_data(form),
                                             section=(form.section.data or "")
                                             if "section" in request.form else None)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            return _done(edited, version, _("Changes saved."), form.name.data.strip())
    return _form_page(version, form, _("Question “%(name)s”", name=name), question_form=True)


@bp.route("/questionnaires/versions/<int:version_id>/items/<item_name>/move", methods=["POST"])
@requires("questionnaire.edit", load_version)
def move_item(version):
    """Move a question or section one place up or down."""
    form = ActionForm()
    if form.validate_on_submit():
        try:
            edited = service.move_item(actor(), version, _arg("item_name"),
                                       -1 if form.direction.data == "up" else 1)
        except DomainError as exc:
            show_domain_error(None, exc)
        else:
            return _done(edited, version, _("Order changed."), _arg("item_name"))
    return _to_version(version)


@bp.route("/questionnaires/versions/<int:version_id>/items/<item_name>/delete",
          methods=["POST"])
@requires("questionnaire.edit", load_version)
def delete_item(version):
    """Delete a question, or a section with its questions."""
    if ActionForm().validate_on_submit():
        try:
            edited = service.delete_item(actor(), version, _arg("item_name"))
        except DomainError as exc:
            show_domain_error(None, exc)
        else:
            return _done(edited, version, _("Deleted."))
    return _to_version(version)


@bp.route("/questionnaires/versions/<int:version_id>/lists/new", methods=["GET", "POST"])
@requires("questionnaire.edit", load_version)
def add_list(version):
    """Add a choice list (reusable by several questions)."""
    form = ChoiceListForm()
    if form.validate_on_submit():
        try:
            edited = service.add_choice_list(actor(), version, form.name.data.strip())
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            return _done(edited, version, _("Choice list added."),
                         "list-" + form.name.data.strip())
    return _form_page(version, form, _("New choice list"))


@bp.route("/questionnaires/versions/<int:version_id>/lists/<list_name>/edit",
          methods=["GET", "POST"])
@requires("questionnaire.edit", load_version)
def edit_list(version):
    """Rename a choice list (its questions follow)."""
    name = _arg("list_name")
    service.choice_list_of(_definition(version), name)  # NotFound: the 404 page
    form = ChoiceListForm(data=None if request.method == "POST" else {"name": name})
    if form.validate_on_submit():
        try:
            edited = service.rename_choice_list(actor(), version, name, form.name.data.strip())
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            return _done(edited, version, _("Changes saved."), "list-" + form.name.data.strip())
    return _form_page(version, form, _("Choice list “%(name)s”", name=name))


@bp.route("/questionnaires/versions/<int:version_id>/lists/<list_name>/delete",
          methods=["POST"])
@requires("questionnaire.edit", load_version)
def delete_list(version):
    """Delete a choice list that no question uses."""
    if ActionForm().validate_on_submit():
        try:
            edited = service.delete_choice_list(actor(), version, _arg("list_name"))
        except DomainError as exc:
            show_domain_error(None, exc)
        else:
            return _done(edited, version, _("Deleted."), "lists")
    return _to_version(version, "lists")


def _choice_data(form: ChoiceForm) -> service.ChoiceData:
    return service.ChoiceData(form.code.data.strip(), (form.label_vi.data or "").strip(),
                              (form.label_en.data or "").strip(),
                              getattr(form.metadata, "parsed", {}))


@bp.route("/questionnaires/versions/<int:version_id>/lists/<list_name>/choices/new",
          methods=["GET", "POST"])
@requires("questionnaire.edit", load_version)
def add_choice(version):
    """Add a choice at the end of a list."""
    name = _arg("list_name")
    service.choice_list_of(_definition(version), name)  # NotFound: the 404 page
    form = ChoiceForm()
    if form.validate_on_submit():
        try:
            edited = service.add_choice(actor(), version, name, _choice_data(form))
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            return _done(edited, version, _("Choice added."), "list-" + name)
    return _form_page(version, form, _("New choice in “%(name)s”", name=name))


@bp.route("/questionnaires/versions/<int:version_id>/lists/<list_name>/choices/<choice_code>/edit",
          methods=["GET", "POST"])
@requires("questionnaire.edit", load_version)
def edit_choice(version):
    """Edit a choice: code, labels, metadata."""
    name, code = _arg("list_name"), _arg("choice_code")
    choice = service.find_choice(_definition(version), name, code)  # NotFound: the 404 page
    form = ChoiceForm(data=None if request.method == "POST" else {
        "code": choice.code, "label_vi": choice.label.get("vi", ""),
        "label_en": choice.label.get("en", ""),
        "metadata": json.dumps(choice.metadata, ensure_ascii=False) if choice.metadata else ""})
    if form.validate_on_submit():
        try:
            edited = service.update_choice(actor(), version, name, code, _choice_data(form))
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            return _done(edited, version, _("Changes saved."), "list-" + name)
    return _form_page(version, form, _("Choice “%(code)s” of “%(name)s”", code=code, name=name))


@bp.route("/questionnaires/versions/<int:version_id>/lists/<list_name>/choices/<choice_code>/move",
          methods=["POST"])
@requires("questionnaire.edit", load_version)
def move_choice(version):
    """Move a choice one place up or down."""
    form = ActionForm()
    name = _arg("list_name")
    if form.validate_on_submit():
        try:
            edited = service.move_choice(actor(), version, name, _arg("choice_code"),
                                         -1 if form.direction.data == "up" else 1)
        except DomainError as exc:
            show_domain_error(None, exc)
        else:
            return _done(edited, version, _("Order changed."), "list-" + name)
    return _to_version(version, "list-" + name)


@bp.route("/questionnaires/versions/<int:version_id>/lists/<list_name>/choices/<choice_code>/delete",
          methods=["POST"])
@requires("questionnaire.edit", load_version)
def delete_choice(version):
    """Delete a choice."""
    name = _arg("list_name")
    if ActionForm().validate_on_submit():
        try:
            edited = service.delete_choice(actor(), version, name, _arg("choice_code"))
        except DomainError as exc:
            show_domain_error(None, exc)
        else:
            return _done(edited, version, _("Deleted."), "list-" + name)
    return _to_version(version, "list-" + name)
