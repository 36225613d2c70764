"""Every registered route x every role x own/foreign organisation: allowed or denied?

The expectations are an explicit table (MATRIX). A route that is not in the table, or whose
view declares no policy (``@requires`` / ``@public``), fails the test: a new route cannot
ship unprotected. Later issues add their endpoints here.
"""

from __future__ import annotations

from dataclasses import dataclass

import builders
import pytest
from builders import app_config

from surveyapp import create_app
from surveyapp.models import Campaign

ROLES = ("anonymous", "system_admin", "org_admin", "analyst", "supervisor", "interviewer",
         "office_reviewer")
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
ADMIN = frozenset({"system_admin"})
ORG_STAFF = frozenset({"org_admin", "analyst", "supervisor", "interviewer"})
EDITORS = frozenset({"org_admin", "analyst"})
SAMPLING_VIEWERS = ADMIN | EDITORS | {"supervisor"}
FIELD_MANAGERS = ADMIN | {"org_admin", "supervisor"}
FIELD_WORKERS = FIELD_MANAGERS | {"interviewer"}


@dataclass(frozen=True)
class Expect:
    """Who may use a route on their own organisation's object, and on another's."""

    own: frozenset[str]
    foreign: frozenset[str] | None = None  # None: the route has no organisation object
    method: str = "GET"
    public: bool = False
    unpublished: bool = False  # public, but the world's object is unpublished: 404 for all


PUBLIC = Expect(frozenset(ROLES), public=True)
# Public pages of published results, asked about the world's submitted, unpublished package.
PUBLIC_MISSING = Expect(frozenset(ROLES), public=True, unpublished=True)

MATRIX: dict[str, Expect] = {
    "static": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": Expect(frozenset(ROLES), method="POST", public=True),
    "auth.set_language": PUBLIC,
    "auth.change_password": Expect(SIGNED_IN),
    "main.dashboard": Expect(SIGNED_IN),
    "orgs.index": Expect(SIGNED_IN),
    "orgs.create": Expect(ADMIN),
    "orgs.detail": Expect(ADMIN | ORG_STAFF, ADMIN),
    "orgs.edit": Expect(ADMIN | {"org_admin"}, ADMIN),
    "orgs.new_user": Expect(ADMIN | {"org_admin"}, ADMIN),
    "orgs.add_member": Expect(ADMIN | {"org_admin"}, ADMIN),
    "orgs.remove_member": Expect(ADMIN | {"org_admin"}, ADMIN, method="POST"),
    "registry.units": Expect(SIGNED_IN),
    "registry.agencies": Expect(SIGNED_IN),
    "registry.successions": Expect(SIGNED_IN),
    "registry.procedures": Expect(SIGNED_IN),
    "registry.export": Expect(SIGNED_IN),
    "registry.import_file": Expect(ADMIN),
    "campaigns.index": Expect(SIGNED_IN),
    "campaigns.create": Expect(ADMIN | EDITORS),
    "campaigns.detail": Expect(ADMIN | ORG_STAFF, ADMIN),
    "campaigns.edit": Expect(ADMIN | EDITORS, ADMIN),
    "campaigns.transition": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    "tokens.index": Expect(SIGNED_IN),
    "tokens.revoke": Expect(ADMIN | {"interviewer"}, ADMIN, method="POST"),
    "audit.index": Expect(ADMIN | {"org_admin"}),
    "jobs.detail": Expect(ADMIN | {"interviewer"}, ADMIN),
    "api.me": Expect(SIGNED_IN),
    "api.campaign_list": Expect(SIGNED_IN),
    "api.agency_list": Expect(SIGNED_IN),
    "api.job": Expect(ADMIN | {"interviewer"}, ADMIN),
    # The API's description (issue 11) is public; scorecard runs as on the scorecard pages.
    "api.openapi": PUBLIC,
    "api.docs": PUBLIC,
    "api.scorecard_list": Expect(SAMPLING_VIEWERS, ADMIN),
    "api.scorecard": Expect(SAMPLING_VIEWERS, ADMIN),
    # Published results (issue 11): public JSON and open data (404 where nothing is published).
    "api.published_years": PUBLIC,
    "api.published_year": PUBLIC_MISSING,
    "api.published_organisation": PUBLIC_MISSING,
    "api.published_agency": PUBLIC_MISSING,
    "api.published_package": PUBLIC_MISSING,
    "api.published_snapshot": PUBLIC_MISSING,
    "api.open_data_json": PUBLIC_MISSING,
    "api.open_data_csv": PUBLIC_MISSING,
    "public.index": PUBLIC,
    "public.year": PUBLIC_MISSING,
    "public.agency": PUBLIC_MISSING,
    "public.package": PUBLIC_MISSING,
    "public.check": PUBLIC_MISSING,
    # Sampling plans: editors manage, supervisors view and download work lists.
    "sampling_plans.index": Expect(SAMPLING_VIEWERS, ADMIN),
    "sampling_plans.create": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    "sampling_plans.detail": Expect(SAMPLING_VIEWERS, ADMIN),
    "sampling_plans.frame": Expect(ADMIN | EDITORS, ADMIN),
    "sampling_plans.design": Expect(ADMIN | EDITORS, ADMIN),
    "sampling_plans.preview": Expect(SAMPLING_VIEWERS, ADMIN),
    "sampling_plans.draw": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    "sampling_plans.verify": Expect(SAMPLING_VIEWERS, ADMIN, method="POST"),
    "sampling_plans.lock": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    "sampling_plans.new_version": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    "sampling_plans.download_sample": Expect(SAMPLING_VIEWERS, ADMIN),
    "sampling_plans.download_worklists": Expect(SAMPLING_VIEWERS, ADMIN),
    "sampling_plans.download_record": Expect(SAMPLING_VIEWERS, ADMIN),
    # Questionnaires: editors edit; all staff of the organisation view and preview; others
    # never see an unpublished questionnaire (the world's versions are drafts).
    "questionnaires.index": Expect(ADMIN | ORG_STAFF, ADMIN),
    "questionnaires.from_template": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    "questionnaires.blank": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    "questionnaires.copy": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    "questionnaires.import_xlsform": Expect(ADMIN | EDITORS, ADMIN),
    "questionnaires.version": Expect(ADMIN | ORG_STAFF, ADMIN),
    "questionnaires.preview": Expect(ADMIN | ORG_STAFF, ADMIN),
    "questionnaires.export": Expect(ADMIN | ORG_STAFF, ADMIN),
    "questionnaires.freeze": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    "questionnaires.new_draft": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    "questionnaires.settings": Expect(ADMIN | EDITORS, ADMIN),
    "questionnaires.add_section": Expect(ADMIN | EDITORS, ADMIN),
    "questionnaires.add_question": Expect(ADMIN | EDITORS, ADMIN),
    "questionnaires.edit_item": Expect(ADMIN | EDITORS, ADMIN),
    "questionnaires.move_item": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    "questionnaires.delete_item": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    "questionnaires.add_list": Expect(ADMIN | EDITORS, ADMIN),
    "questionnaires.edit_list": Expect(ADMIN | EDITORS, ADMIN),
    "questionnaires.delete_list": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    "questionnaires.add_choice": Expect(ADMIN | EDITORS, ADMIN),
    "questionnaires.edit_choice": Expect(ADMIN | EDITORS, ADMIN),
    "questionnaires.move_choice": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    "questionnaires.delete_choice": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    # Field collection (issue 7): field workers submit and see their own assignments;
    # supervisors and organisation administrators assign and review.
    "field_api.submit": Expect(FIELD_WORKERS, method="POST"),
    "field_api.correct": Expect(FIELD_WORKERS, ADMIN, method="PUT"),
    "field_api.status": Expect(FIELD_WORKERS | {"analyst"}, ADMIN),
    "field_api.assignments": Expect(FIELD_WORKERS),
    "field.index": Expect(FIELD_WORKERS),
    "field.entry": Expect(FIELD_WORKERS, ADMIN),
    "field.service_worker": PUBLIC,
    "field.assignments": Expect(FIELD_MANAGERS, ADMIN),
    "field.assign": Expect(FIELD_MANAGERS, ADMIN, method="POST"),
    "field.open_reserve": Expect(FIELD_MANAGERS, ADMIN, method="POST"),
    "field.review_queue": Expect(FIELD_MANAGERS, ADMIN),
    "field.interview": Expect(FIELD_MANAGERS, ADMIN),
    "field.review": Expect(FIELD_MANAGERS, ADMIN, method="POST"),
    "field.resolve": Expect(FIELD_MANAGERS, ADMIN, method="POST"),
    # Quality control and response rates (issue 8): dashboards for the organisation's
    # administrators, analysts and supervisors; back-checks for supervisors and org admins.
    "quality.rates": Expect(ADMIN | {"org_admin", "analyst", "supervisor"}, ADMIN),
    "quality.rates_export": Expect(ADMIN | {"org_admin", "analyst", "supervisor"}, ADMIN),
    "quality.dashboard": Expect(ADMIN | {"org_admin", "analyst", "supervisor"}, ADMIN),
    "quality.back_checks": Expect(FIELD_MANAGERS, ADMIN),
    "quality.draw_back_checks": Expect(FIELD_MANAGERS, ADMIN, method="POST"),
    "quality.record_back_check": Expect(FIELD_MANAGERS, ADMIN, method="POST"),
    # Bulk import of responses (issue 8): the campaign's supervisors and administrators;
    # the import's page and report are its job's (its owner's).
    "response_import.upload": Expect(FIELD_MANAGERS, ADMIN),
    "response_import.status": Expect(ADMIN | {"interviewer"}, ADMIN),
    "response_import.report": Expect(ADMIN | {"interviewer"}, ADMIN),
    # Exports for statisticians (issue 8): analysts, supervisors and organisation admins.
    "exports.index": Expect(SAMPLING_VIEWERS, ADMIN),
    "exports.create": Expect(SAMPLING_VIEWERS, ADMIN, method="POST"),
    "exports.download": Expect(SAMPLING_VIEWERS, ADMIN),
    # Respondents' identifying data (issue 8): the purge page of the organisation's admins.
    "respondents.index": Expect(ADMIN | {"org_admin"}, ADMIN),
    "respondents.purge": Expect(ADMIN | {"org_admin"}, ADMIN, method="POST"),
    # Weighting runs (issue 9): analysts and org admins compute; supervisors also read;
    # runs are unpublished, so never the UBND office.
    "weighting.index": Expect(SAMPLING_VIEWERS, ADMIN),
    "weighting.new": Expect(ADMIN | EDITORS, ADMIN),
    "weighting.detail": Expect(SAMPLING_VIEWERS, ADMIN),
    # Scorecard runs (issue 9): as weighting runs (never the UBND office before submission).
    "scorecards.index": Expect(SAMPLING_VIEWERS, ADMIN),
    "scorecards.new": Expect(ADMIN | EDITORS, ADMIN),
    "scorecards.detail": Expect(SAMPLING_VIEWERS, ADMIN),
    "scorecards.export": Expect(SAMPLING_VIEWERS, ADMIN),
    # Annual reports (issue 10): the organisation's analysts and admins generate and download
    # them; the UBND office reads submitted packages, never raw reports.
    "reports.index": Expect(ADMIN | EDITORS, ADMIN),
    "reports.create": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    "reports.download": Expect(ADMIN | EDITORS, ADMIN),
    # The data explorer, cross-tabs and key drivers (issue 10): the organisation's analysts
    # and admins; not field staff, never the UBND office (interview-level data).
    "explorer.index": Expect(ADMIN | EDITORS, ADMIN),
    "explorer.export": Expect(ADMIN | EDITORS, ADMIN),
    "explorer.crosstab": Expect(ADMIN | EDITORS, ADMIN),
    "explorer.crosstab_export": Expect(ADMIN | EDITORS, ADMIN),
    "explorer.drivers": Expect(ADMIN | EDITORS, ADMIN),
    "explorer.drivers_export": Expect(ADMIN | EDITORS, ADMIN),
    # Custom indices and band tables (issue 9): read as scorecards, defined by their makers.
    "indices.index": Expect(SAMPLING_VIEWERS, ADMIN),
    "indices.detail": Expect(SAMPLING_VIEWERS, ADMIN),
    "indices.new": Expect(ADMIN | EDITORS, ADMIN),
    "indices.edit": Expect(ADMIN | EDITORS, ADMIN),
    "indices.new_band_table": Expect(ADMIN | EDITORS, ADMIN),
    # Submission packages (issue 11): the world's versions are submitted. Analysts and org
    # admins prepare; the org admin (the organisation's head) approves and submits; the
    # office reads submitted versions of every organisation and receives, returns, accepts,
    # publishes them; another organisation never reads an unpublished package.
    "packages.index": Expect(SIGNED_IN),
    "packages.create": Expect(ADMIN | EDITORS),
    "packages.detail": Expect(ADMIN | EDITORS | {"office_reviewer"}, ADMIN | {"office_reviewer"}),
    "packages.edit": Expect(ADMIN | EDITORS, ADMIN),
    "packages.add_survey": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    "packages.remove_survey": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    "packages.findings": Expect(ADMIN | EDITORS, ADMIN),
    "packages.request_review": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    "packages.amend": Expect(ADMIN | EDITORS, ADMIN, method="POST"),
    "packages.reopen": Expect(ADMIN | {"org_admin"}, ADMIN, method="POST"),
    "packages.approve": Expect(ADMIN | {"org_admin"}, ADMIN, method="POST"),
    "packages.submit": Expect(ADMIN | {"org_admin"}, ADMIN, method="POST"),
    "packages.receive": Expect(ADMIN | {"office_reviewer"}, ADMIN | {"office_reviewer"},
                               method="POST"),
    "packages.return_package": Expect(ADMIN | {"office_reviewer"}, ADMIN | {"office_reviewer"},
                                      method="POST"),
    "packages.accept": Expect(ADMIN | {"office_reviewer"}, ADMIN | {"office_reviewer"},
                              method="POST"),
    "packages.publish": Expect(ADMIN | {"office_reviewer"}, ADMIN | {"office_reviewer"},
                               method="POST"),
    "packages.verify": Expect(ADMIN | EDITORS | {"office_reviewer"}, ADMIN | {"office_reviewer"}),
    "packages.snapshot": Expect(ADMIN | EDITORS | {"office_reviewer"},
                                ADMIN | {"office_reviewer"}),
    "packages.report_xlsx": Expect(ADMIN | EDITORS | {"office_reviewer"},
                                   ADMIN | {"office_reviewer"}),
    "packages.report_print": Expect(ADMIN | EDITORS | {"office_reviewer"},
                                    ADMIN | {"office_reviewer"}),
    "office.consolidated": Expect(ADMIN | {"office_reviewer"}),
    "office.export": Expect(ADMIN | {"office_reviewer"}),
    "office.deadlines_page": Expect(ADMIN | {"office_reviewer"}),
    "notifications.index": Expect(SIGNED_IN),
    "notifications.read": Expect(frozenset({"interviewer"}), frozenset(), method="POST"),
    "notifications.read_all": Expect(SIGNED_IN, method="POST"),
}

# URL arguments that name an organisation's object -> the world's object key.
OBJECT_ARGS = {"campaign_id": "campaign", "org_id": "org", "membership_id": "membership",
               "token_id": "token", "job_id": "job", "plan_id": "sampling_plan"}
PLAIN_ARGS = {"filename": "css/app.css", "code": "vi", "kind": "units", "fmt": "csv"}
# Questionnaire routes: the version (an object) and names inside its document.
OBJECT_ARGS["version_id"] = "questionnaire_version"
PLAIN_ARGS.update({"item_name": "channel", "list_name": "channel", "choice_code": "desk"})
# Field collection: an assignment, an interview (by id on pages, by UUID in the API).
OBJECT_ARGS.update({"assignment_id": "assignment", "interview_id": "interview",
                    "interview_uuid": "interview_uuid"})
OBJECT_ARGS["run_id"] = "weight_run"  # weighting runs (issue 9)
OBJECT_ARGS["scorecard_id"] = "scorecard_run"  # scorecard runs (issue 9)
OBJECT_ARGS["report_id"] = "annual_report"  # annual reports (issue 10)
OBJECT_ARGS["index_id"] = "custom_index"  # custom indices (issue 9)
OBJECT_ARGS.update({"package_version_id": "package_version",  # packages (issue 11)
                    "notification_id": "notification"})
# Published results (issue 11): the world's packages are of 2024, its agency SO-TP.
OBJECT_ARGS["organisation_id"] = "org"
PLAIN_ARGS.update({"year": "2024", "agency_code": "SO-TP"})


def coverage_problems(app, matrix: dict[str, Expect]) -> list[str]:
    """Routes missing from the matrix or declaring no policy, and stale matrix entries."""
    problems = []
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    for endpoint in sorted(endpoints - set(matrix)):
        problems.append(f"{endpoint}: not in the route matrix")
    for endpoint in sorted(set(matrix) - endpoints):
        problems.append(f"{endpoint}: in the matrix but not registered")
    for endpoint in sorted(endpoints - {"static"}):
        if getattr(app.view_functions[endpoint], "policy", None) is None:
            problems.append(f"{endpoint}: the view declares no policy (@requires or @public)")
    return problems


def url_for_rule(rule, objects: dict[str, int]) -> str | None:
    values = {}
    for arg in rule.arguments:
        if arg in OBJECT_ARGS:
            values[arg] = objects[OBJECT_ARGS[arg]]
        elif arg in PLAIN_ARGS:
            values[arg] = PLAIN_ARGS[arg]
        else:
            return None
    return rule.build(values, append_unknown=False)[1]


def decision(response) -> str:
    if response.status_code >= 500:
        return "error"
    if response.status_code in (401, 403):
        return "deny"
    if response.status_code in (301, 302, 303, 307, 308) and \
            "/login" in response.headers.get("Location", ""):
        return "deny"
    if response.status_code == 404:
        return "missing"
    return "allow"


def walk_matrix(app, client, connection, login, world, matrix) -> list[str]:
    """Request every route as every role, in both organisation contexts; list mismatches."""
    problems = []
    for role in ROLES:
        client.post("/logout")
        if role != "anonymous":
            assert login(world.logins[role]).status_code == 302, role
        # Signing out last, so the walk stays signed in.
        rules = sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint == "auth.logout")
        for rule in rules:
            expect = matrix.get(rule.endpoint)
            if expect is None:
                continue
            if expect.method not in rule.methods:
                problems.append(f"{rule.endpoint}: does not accept {expect.method}")
                continue
            contexts = ("own", "foreign") if expect.foreign is not None else ("own",)
            for context in contexts:
                url = url_for_rule(rule, world.objects[context])
                if url is None:
                    problems.append(f"{rule.endpoint}: no value for {rule.arguments}")
                    continue
                allowed = role in (expect.own if context == "own" else expect.foreign)
                savepoint = connection.begin_nested()  # each request leaves no trace
                try:
                    response = client.open(url, method=expect.method)
                    response.close()
                finally:
                    savepoint.rollback()
                got = decision(response)
                if expect.public and expect.unpublished:
                    ok = response.status_code == 404
                elif expect.public:
                    ok = response.status_code < 400
                else:
                    ok = got == ("allow" if allowed else "deny")
                if not ok:
                    problems.append(f"{rule.endpoint} [{context}] as {role}: expected "
                                    f"{'allow' if allowed else 'deny'}, got {got} "
                                    f"({response.status_code})")
    return problems


def test_every_route_is_in_the_matrix_and_declares_a_policy(app):
    assert coverage_problems(app, MATRIX) == []


def test_every_route_role_and_organisation_gets_the_expected_answer(app, db, client, connection,
                                                                   auth):
    with app.app_context():
        world = builders.make_world()
    problems = walk_matrix(app, client, connection, auth.login, world, MATRIX)
    assert problems == []


def test_a_new_unprotected_route_is_reported(database_url):
    app = create_app(app_config(database_url))
    app.add_url_rule("/extra", "extra", lambda: "nobody checked me")
    problems = coverage_problems(app, MATRIX)
    assert "extra: not in the route matrix" in problems
    assert "extra: the view declares no policy (@requires or @public)" in problems


def test_a_route_placed_in_the_matrix_with_a_wrong_expectation_is_reported(
        app, db, client, connection, auth):
    with app.app_context():
        world = builders.make_world()
    wrong = dict(MATRIX)
    # Claim that interviewers may edit campaigns: the walk must catch the mismatch.
    wrong["campaigns.edit"] = Expect(ADMIN | EDITORS | {"interviewer"}, ADMIN)
    problems = walk_matrix(app, client, connection, auth.login, world,
                           {"campaigns.edit": wrong["campaigns.edit"]})
    assert problems == ["campaigns.edit [own] as interviewer: expected allow, got deny (403)"]


@pytest.mark.parametrize("status", ["submitted"])
def test_office_reviewer_sees_a_submitted_campaign_of_any_organisation(app, db, client, auth,
                                                                       status):
    with app.app_context():
        world = builders.make_world()
        campaign_id = world.objects["foreign"]["campaign"]
        builders.db.session.get(Campaign, campaign_id).status = status
        builders.db.session.commit()
    auth.login("office")
    assert client.get(f"/campaigns/{campaign_id}").status_code == 200
    assert "Khảo sát của tổ chức khác" in client.get("/campaigns/").get_data(as_text=True)
