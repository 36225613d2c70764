"""The one authorisation policy: who may do what on which organisation's objects.

Views declare what they need with ``@requires("campaign.edit", load_campaign)`` (or
``@public`` for the login page and the like); templates and services ask ``can()``. Every
rule is a small function of the acting ``Principal`` and the target object, in ``RULES``.
An organisation never sees another's unpublished data: campaign visibility is decided
here too (``campaign_visibility``), for lists as well as single objects.

Adding a capability: add the action to ``RULES``, declare it on the view, and place the
new endpoint in the route matrix of tests/app/test_route_matrix.py.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import abort, g, request
from flask_login import current_user
from sqlalchemy import false, or_, true

from ..extensions import login_manager
from ..models import (
    ApiToken,
    Campaign,
    Job,
    Membership,
    Organisation,
    PackageVersion,
    QuestionnaireVersion,
    SubmissionPackage,
)
from ..models.codes import PACKAGE_FROZEN, CampaignStatus, PackageStatus, Role

if TYPE_CHECKING:
    from ..services.tokens import TokenIdentity

# Roles that work on an organisation's own campaigns.
CAMPAIGN_STAFF = (Role.ORG_ADMIN, Role.ANALYST, Role.SUPERVISOR, Role.INTERVIEWER)
CAMPAIGN_EDITORS = (Role.ORG_ADMIN, Role.ANALYST)
# What the UBND office may read of other organisations' campaigns.
OFFICE_VISIBLE = (CampaignStatus.SUBMITTED,)
# What the office may read of the organisations' submission packages: submitted versions on.
OFFICE_PACKAGES = tuple(s.value for s in PACKAGE_FROZEN)


@dataclass(frozen=True)
class Principal:
    """Who is acting: a signed-in user, or an API token (acting within its scopes)."""

    user_id: int | None
    login: str
    roles: dict[int, frozenset[Role]] = field(default_factory=dict)  # organisation id -> roles
    scopes: frozenset[str] | None = None  # None: a browser session, not limited by scopes

    @property
    def authenticated(self) -> bool:
        return bool(self.login)

    @property
    def system_admin(self) -> bool:
        return any(Role.SYSTEM_ADMIN in r for r in self.roles.values())

    @property
    def office_reviewer(self) -> bool:
        return any(Role.OFFICE_REVIEWER in r for r in self.roles.values())

    def has_role(self, org_id: int | None, *roles: Role) -> bool:
        held = self.roles.get(org_id, frozenset()) if org_id is not None else frozenset()
        return bool(held & set(roles)) if roles else bool(held)

    def has_role_anywhere(self, *roles: Role) -> bool:
        return any(r & set(roles) for r in self.roles.values())

    def org_ids(self, *roles: Role) -> set[int]:
        return {org for org, held in self.roles.items() if not roles or held & set(roles)}


ANONYMOUS = Principal(user_id=None, login="")


def principal_for_user(user, scopes: frozenset[str] | None = None) -> Principal:
    roles: dict[int, set[Role]] = {}
    for m in user.memberships:
        roles.setdefault(m.organisation_id, set()).add(Role(m.role))
    return Principal(user.id, user.login, {k: frozenset(v) for k, v in roles.items()}, scopes)


def principal_for_token(token: TokenIdentity) -> Principal:
    """A token acts as its user (within its scopes); an organisation-only token as an analyst.

    A token that names an organisation acts only there, even when it also has a user: the
    user's roles in other organisations do not come with it (issue 11).
    """
    if token.user_id is not None:
        roles = {org: frozenset(Role(r) for r in held) for org, held in token.roles.items()}
        if token.organisation_id is not None:
            held = roles.get(token.organisation_id)
            roles = {token.organisation_id: held} if held else {}
        return Principal(token.user_id, token.user_login, roles, token.scopes)
    return Principal(None, f"token:{token.prefix}",
                     {token.organisation_id: frozenset({Role.ANALYST})}, token.scopes)


def current_principal() -> Principal:
    """The principal of the current request, computed once."""
    if "principal" not in g:
        if not current_user.is_authenticated:
            g.principal = ANONYMOUS
        elif getattr(g, "api_token", None) is not None:
            g.principal = principal_for_token(g.api_token)
        else:
            g.principal = principal_for_user(current_user)
    return g.principal


# ---- the rules -------------------------------------------------------------------------

def _authenticated(p: Principal, obj) -> bool:
    return p.authenticated


def _system_admin(p: Principal, obj) -> bool:
    return p.system_admin


def _org_member(p: Principal, org: Organisation) -> bool:
    return p.system_admin or p.has_role(org.id)


def _org_admin(p: Principal, org: Organisation) -> bool:
    return p.system_admin or p.has_role(org.id, Role.ORG_ADMIN)


def _membership_admin(p: Principal, m: Membership) -> bool:
    return p.system_admin or p.has_role(m.organisation_id, Role.ORG_ADMIN)


def _campaign_create(p: Principal, org: Organisation | None) -> bool:
    if p.system_admin:
        return True
    if org is None:  # "may create a campaign somewhere" (menus)
        return p.has_role_anywhere(*CAMPAIGN_EDITORS)
    return p.has_role(org.id, *CAMPAIGN_EDITORS)


def _campaign_view(p: Principal, c: Campaign) -> bool:
    if p.system_admin or p.has_role(c.organisation_id, *CAMPAIGN_STAFF):
        return True
    return p.office_reviewer and c.status in OFFICE_VISIBLE


def _campaign_edit(p: Principal, c: Campaign) -> bool:
    return p.system_admin or p.has_role(c.organisation_id, *CAMPAIGN_EDITORS)


def _campaign_submit(p: Principal, c: Campaign) -> bool:
    return p.system_admin or p.has_role(c.organisation_id, Role.ORG_ADMIN)


def _questionnaire_list(p: Principal, c: Campaign) -> bool:
    return p.system_admin or p.has_role(c.organisation_id, *CAMPAIGN_STAFF)


def _questionnaire_view(p: Principal, v: QuestionnaireVersion) -> bool:
    """Staff of the owning organisation; outside it, only a published version (frozen, in use
    by a campaign the office may read) — never an unpublished questionnaire."""
    q = v.questionnaire
    if p.system_admin or p.has_role(q.organisation_id, *CAMPAIGN_STAFF):
        return True
    c = q.campaign
    return (p.office_reviewer and c is not None and c.status in OFFICE_VISIBLE
            and c.questionnaire_version_id == v.id)


def _questionnaire_edit(p: Principal, obj: Campaign | QuestionnaireVersion) -> bool:
    org_id = obj.questionnaire.organisation_id if isinstance(obj, QuestionnaireVersion) \
        else obj.organisation_id
    return p.system_admin or p.has_role(org_id, *CAMPAIGN_EDITORS)


def _sampling_org(obj) -> int:
    """The organisation owning a campaign or one of its sampling plans."""
    return obj.organisation_id if isinstance(obj, Campaign) else obj.campaign.organisation_id


def _sampling_view(p: Principal, obj) -> bool:
    # Supervisors see plans and download work lists; interviewers get their cases elsewhere.
    return p.system_admin or p.has_role(_sampling_org(obj), Role.ORG_ADMIN, Role.ANALYST,
                                        Role.SUPERVISOR)


def _sampling_manage(p: Principal, obj) -> bool:
    return p.system_admin or p.has_role(_sampling_org(obj), *CAMPAIGN_EDITORS)


def _audit_view(p: Principal, obj) -> bool:
    return p.system_admin or p.has_role_anywhere(Role.ORG_ADMIN)


def _token_own(p: Principal, obj) -> bool:
    # Tokens are managed from a browser session by a person, never by another token.
    return p.user_id is not None and p.scopes is None


def _token_revoke(p: Principal, t: ApiToken) -> bool:
    if not _token_own(p, t):
        return False
    return (p.system_admin or t.user_id == p.user_id
            or (t.organisation_id is not None and p.has_role(t.organisation_id, Role.ORG_ADMIN)))


def _job_view(p: Principal, job: Job) -> bool:
    return p.system_admin or (job.owner_id is not None and job.owner_id == p.user_id)


# ---- field collection (issue 7) ----
FIELD_WORKERS = (Role.ORG_ADMIN, Role.SUPERVISOR, Role.INTERVIEWER)
FIELD_MANAGERS = (Role.ORG_ADMIN, Role.SUPERVISOR)


def _field_worker(p: Principal, obj) -> bool:
    """May enter interviews somewhere (submission API, "my assignments")."""
    return p.system_admin or p.has_role_anywhere(*FIELD_WORKERS)


def _field_manage(p: Principal, obj) -> bool:
    """Assign cases and review interviews of a campaign (or of an assignment's campaign)."""
    org = obj.organisation_id if isinstance(obj, Campaign) else obj.campaign.organisation_id
    return p.system_admin or p.has_role(org, *FIELD_MANAGERS)


def _own_field_work(p: Principal, obj) -> bool:
    """The interviewer an interview (or an assignment) belongs to, while they still hold a
    field role in its campaign's organisation: a user removed from the organisation, or a
    token limited to another organisation, no longer works on it."""
    return (p.user_id is not None and obj.interviewer_id == p.user_id
            and p.has_role(obj.campaign.organisation_id, *FIELD_WORKERS))


def _interview_view(p: Principal, interview) -> bool:
    org = interview.campaign.organisation_id
    return (p.system_admin or p.has_role(org, Role.ORG_ADMIN, Role.ANALYST, Role.SUPERVISOR)
            or _own_field_work(p, interview))


def _interview_correct(p: Principal, interview) -> bool:
    return (p.system_admin or p.has_role(interview.campaign.organisation_id, *FIELD_MANAGERS)
            or _own_field_work(p, interview))


def _interview_review(p: Principal, interview) -> bool:
    return p.system_admin or p.has_role(interview.campaign.organisation_id, *FIELD_MANAGERS)


def _assignment_enter(p: Principal, assignment) -> bool:
    return (p.system_admin or p.has_role(assignment.campaign.organisation_id, *FIELD_MANAGERS)
            or _own_field_work(p, assignment))


def _respondent_view(p: Principal, obj) -> bool:
    """Identifying data of an interview's respondent (or of an assignment's case): only the
    interviewer it belongs to and the supervisors of the campaign's organisation, and only
    while the campaign is fielding (Decision 104/2024, Art. 3.4). Never analysts, org admins,
    system admins or the UBND office: they see the interview's id and the case's unit id."""
    campaign = obj.campaign
    if p.user_id is None or campaign.status != CampaignStatus.FIELDING.value:
        return False
    if p.has_role(campaign.organisation_id, Role.SUPERVISOR):
        return True
    # The interviewer only while holding a field role there: not once removed from the
    # organisation, nor with a token limited to another one.
    if not p.has_role(campaign.organisation_id, *FIELD_WORKERS):
        return False
    if obj.interviewer_id == p.user_id:
        return True
    assignment = getattr(obj, "assignment", None)  # an interview: its case's interviewer
    return assignment is not None and assignment.interviewer_id == p.user_id


def _case_labels_view(p: Principal, plan) -> bool:
    """The frame's identifying columns (name, phone, address) of a plan's cases: only the
    supervisors of the campaign's organisation, who prepare the work lists, and only until
    the field work ends (draft or fielding). Analysts, org admins and the office see unit ids
    (Decision 104/2024, Art. 3.4); interviewers see their own cases on their work list."""
    campaign = plan.campaign
    if p.user_id is None or campaign.status not in (CampaignStatus.DRAFT.value,
                                                    CampaignStatus.FIELDING.value):
        return False
    return p.has_role(campaign.organisation_id, Role.SUPERVISOR)


# ---- exports for statisticians (issue 8) ----
def _export_campaign(p: Principal, c: Campaign) -> bool:
    """Download the analysis extract (no identifying data) of a campaign's approved interviews."""
    return p.system_admin or p.has_role(c.organisation_id, Role.ORG_ADMIN, Role.ANALYST,
                                        Role.SUPERVISOR)


# ---- quality control and response rates (issue 8) ----
def _quality_view(p: Principal, c: Campaign) -> bool:
    """Response-rate and QC dashboards of a campaign (counts and flags, no identifying data)."""
    return p.system_admin or p.has_role(c.organisation_id, Role.ORG_ADMIN, Role.ANALYST,
                                        Role.SUPERVISOR)


def _back_check_manage(p: Principal, obj) -> bool:
    """Draw back-checks of a campaign and record their outcomes (supervisors, org admins)."""
    campaign = obj if isinstance(obj, Campaign) else obj.draw.campaign
    return p.system_admin or p.has_role(campaign.organisation_id, *FIELD_MANAGERS)


# ---- weighting runs (issue 9) ----
def _weighting_view(p: Principal, obj) -> bool:
    """A campaign's weighting runs: its organisation's administrators, analysts and supervisors
    (runs are unpublished: never the UBND office). ``obj``: the campaign or one of its runs."""
    c = obj if isinstance(obj, Campaign) else obj.campaign
    return p.system_admin or p.has_role(c.organisation_id, Role.ORG_ADMIN, Role.ANALYST,
                                        Role.SUPERVISOR)


def _weighting_create(p: Principal, c: Campaign) -> bool:
    """Compute a new weighting run: the organisation's administrators and analysts."""
    return p.system_admin or p.has_role(c.organisation_id, *CAMPAIGN_EDITORS)


def _indices_edit(p: Principal, obj) -> bool:
    """Define custom indices and band tables (issue 9) from a campaign's questionnaire: the
    organisation's administrators and analysts. ``obj``: the campaign, or a target with
    ``.campaign`` (a custom index seen from one of its organisation's campaigns)."""
    c = obj if isinstance(obj, Campaign) else obj.campaign
    return p.system_admin or p.has_role(c.organisation_id, *CAMPAIGN_EDITORS)


# ---- annual reports (issue 10) ----
def _report_staff(p: Principal, obj) -> bool:
    """Generate, list and download a campaign's annual reports: its organisation's
    administrators and analysts. Raw reports are never the UBND office's: it reads the
    submitted packages (issue 11). ``obj``: the campaign or one of its reports."""
    c = obj if isinstance(obj, Campaign) else obj.campaign
    return p.system_admin or p.has_role(c.organisation_id, *CAMPAIGN_EDITORS)


# ---- submission packages (issue 11) ----
# Analysts and org admins prepare a package; the org admin (the organisation's head) approves
# and submits it; the UBND office's reviewers receive, return, accept and publish it.
PACKAGE_STAFF = (Role.ORG_ADMIN, Role.ANALYST)


def _package_org(obj) -> int:
    """The organisation owning a package version (or a package)."""
    package = getattr(obj, "package", obj)
    return package.organisation_id


def _package_view(p: Principal, v) -> bool:
    """Staff of the organisation; the office once submitted; anyone signed in once published.
    Another organisation never reads an unpublished package."""
    if p.system_admin or p.has_role(_package_org(v), *PACKAGE_STAFF):
        return True
    if v.status == PackageStatus.PUBLISHED.value:
        return True
    return p.office_reviewer and v.status in OFFICE_PACKAGES


def _package_create(p: Principal, org: Organisation | None) -> bool:
    if p.system_admin:
        return True
    if org is None:  # "may start a package somewhere" (menus)
        return p.has_role_anywhere(*PACKAGE_STAFF)
    return p.has_role(org.id, *PACKAGE_STAFF)


def _package_prepare(p: Principal, v) -> bool:
    """Edit a draft, send it for internal review, start an amendment."""
    return p.system_admin or p.has_role(_package_org(v), *PACKAGE_STAFF)


def _package_head(p: Principal, v) -> bool:
    """Approve, send back to draft, submit to the office: the organisation's head."""
    return p.system_admin or p.has_role(_package_org(v), Role.ORG_ADMIN)


def _package_office(p: Principal, v) -> bool:
    """Receive, return, accept, publish: the office, on versions it may read."""
    return p.system_admin or (p.office_reviewer and v.status in OFFICE_PACKAGES)


def _office(p: Principal, obj) -> bool:
    """The office's pages (consolidated view, exports, deadlines)."""
    return p.system_admin or p.office_reviewer


def _notification_own(p: Principal, n) -> bool:
    return p.user_id is not None and p.scopes is None and n.user_id == p.user_id


# ---- the analysts' explorer and key-driver analysis (issue 10) ----
def _explore(p: Principal, c: Campaign) -> bool:
    """Explore a campaign's weighted data (any question by any breakdown, cross-tabs, key
    drivers): its organisation's analysts and administrators, and the system administrator.
    Not supervisors or interviewers (field staff), and never the UBND office: the figures
    are computed from interview-level data, which the office never sees."""
    return p.system_admin or p.has_role(c.organisation_id, *CAMPAIGN_EDITORS)


RULES: dict[str, Callable[[Principal, object], bool]] = {
    "dashboard.view": _authenticated,
    "org.list": _authenticated,
    "org.create": _system_admin,
    "org.view": _org_member,
    "org.edit": _org_admin,
    "org.manage_members": _org_admin,
    "membership.remove": _membership_admin,
    "registry.view": _authenticated,
    "registry.edit": _system_admin,
    "campaign.list": _authenticated,
    "campaign.create": _campaign_create,
    "campaign.view": _campaign_view,
    "campaign.edit": _campaign_edit,
    "campaign.transition": _campaign_edit,
    "campaign.submit": _campaign_submit,
    "questionnaire.list": _questionnaire_list,
    "questionnaire.view": _questionnaire_view,
    "questionnaire.edit": _questionnaire_edit,
    "sampling.view": _sampling_view,
    "sampling.manage": _sampling_manage,
    "audit.view": _audit_view,
    "token.manage": _token_own,
    "token.revoke": _token_revoke,
    "job.view": _job_view,
    "interview.submit": _field_worker,
    "interview.view": _interview_view,
    "interview.correct": _interview_correct,
    "interview.review": _interview_review,
    "assignment.list": _field_worker,
    "assignment.enter": _assignment_enter,
    "field.manage": _field_manage,
    "export.campaign": _export_campaign,
    "respondent.view": _respondent_view,
    "case_labels.view": _case_labels_view,
    "respondent.purge": _campaign_submit,  # the organisation's administrators
    "quality.view": _quality_view,
    "quality.back_check": _back_check_manage,
    "weighting.view": _weighting_view,
    "weighting.create": _weighting_create,
    # scorecard runs (issue 9): the same people as weighting runs (unpublished results)
    "scorecards.view": _weighting_view,
    "scorecards.create": _weighting_create,
    "explorer.view": _explore,  # issue 10: explorer, cross-tabs, key drivers
    # custom indices and band tables (issue 9): read as scorecards, defined by their makers
    "indices.view": _weighting_view,
    "indices.edit": _indices_edit,
    # annual reports (issue 10): the organisation's analysts and administrators only
    "report.view": _report_staff,
    "report.generate": _report_staff,
    # submission packages (issue 11)
    "package.list": _authenticated,
    "package.create": _package_create,
    "package.view": _package_view,
    "package.edit": _package_prepare,
    "package.request_review": _package_prepare,
    "package.amend": _package_prepare,
    "package.approve": _package_head,
    "package.reopen": _package_head,
    "package.submit": _package_head,
    "package.receive": _package_office,
    "package.return": _package_office,
    "package.accept": _package_office,
    "package.publish": _package_office,
    "package.deadlines": _office,
    "office.view": _office,
    "notification.list": _authenticated,
    "notification.read": _notification_own,
}


def can(action: str, obj=None, principal: Principal | None = None) -> bool:
    """May the principal (default: the current one) do ``action`` on ``obj``?"""
    rule = RULES[action]  # an unknown action is a programming error, never "allowed"
    p = principal if principal is not None else current_principal()
    if not p.authenticated:
        return False
    return bool(rule(p, obj))


def campaign_visibility(p: Principal):
    """SQL condition for the campaigns the principal may see (the list twin of campaign.view)."""
    if p.system_admin:
        return true()
    conditions = []
    staff_orgs = p.org_ids(*CAMPAIGN_STAFF)
    if staff_orgs:
        conditions.append(Campaign.organisation_id.in_(staff_orgs))
    if p.office_reviewer:
        conditions.append(Campaign.status.in_([s.value for s in OFFICE_VISIBLE]))
    return or_(*conditions) if conditions else false()


def audit_organisations(p: Principal) -> set[int] | None:
    """Organisations whose audit events the principal may read (None = all)."""
    return None if p.system_admin else p.org_ids(Role.ORG_ADMIN)


# ---- declaring needs on views ------------------------------------------------------------

def requires(action: str, loader: Callable[..., object] | None = None, scope: str | None = None):
    """Decorate a view: load its target with ``loader(**view_args)``, then check ``action``.

    The loaded object is passed to the view as its only positional argument. API views
    also name the token ``scope`` they need (browser sessions are not scope-limited).
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapped(**kwargs):
            p = current_principal()
            if not p.authenticated:
                if request.path.startswith("/api/"):
                    abort(401)
                return login_manager.unauthorized()
            if scope is not None and p.scopes is not None and scope not in p.scopes:
                abort(403)
            if loader is not None:
                target = loader(**kwargs)
                if not can(action, target, p):
                    abort(403)
                return view(target)
            if not can(action, None, p):
                abort(403)
            return view(**kwargs)

        wrapped.policy = (action, scope)  # read by the route-matrix test
        return wrapped

    return decorator


def public(view):
    """Mark a view as open to everyone (login page, language switch)."""
    view.policy = ("public", None)
    return view


def package_visibility(p: Principal):
    """SQL condition on ``PackageVersion`` (joined to its package) for the versions the
    principal may read: the list twin of package.view."""
    if p.system_admin:
        return true()
    conditions = [PackageVersion.status == PackageStatus.PUBLISHED.value]
    staff_orgs = p.org_ids(*PACKAGE_STAFF)
    if staff_orgs:
        conditions.append(SubmissionPackage.organisation_id.in_(staff_orgs))
    if p.office_reviewer:
        conditions.append(PackageVersion.status.in_(OFFICE_PACKAGES))
    return or_(*conditions)
