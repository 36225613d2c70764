"""Interview entry on a phone with the network off (issue 7's "Done when"): a form with skip
logic, two interviews submitted offline arrive exactly once when the connection returns; a
returned interview is corrected on the phone and approved again."""

from __future__ import annotations

import sqlalchemy as sa
from browser_harness import login, open_menu, screenshot

from builders import PASSWORD
from field_builders import make_field_world
from surveyapp.extensions import db
from surveyapp.models import Campaign, Interview
from surveyapp.services.interviews import approved_interviews


def _interviews(app, campaign_id):
    with app.app_context():
        rows = db.session.scalars(sa.select(Interview).where(
            Interview.campaign_id == campaign_id).order_by(Interview.id)).all()
        result = [(i.uuid, i.assignment_id, i.status, i.version, dict(i.current.answers),
                   i.current.paradata) for i in rows]
        db.session.remove()
        return result


def _logout(page):
    open_menu(page)
    page.click("[data-testid=logout]")
    page.wait_for_url("**/login**")


def _fill_interview(page, visited: bool, age_first: str, age: str):
    page.locator("#field-entry[data-ready='1']").wait_for()
    channel = page.locator("[data-testid=q-channel]")
    if visited:
        page.check("#f-visited")  # "Có"
        channel.wait_for(state="visible")
        page.check("#f-channel-online")
    else:
        page.check("#f-visited-no")
        channel.wait_for(state="hidden")  # skip logic: not asked of those who did not visit
    page.click("[data-testid=next]")
    page.fill("#f-age", age_first)
    page.click("[data-testid=next]")  # the constraint holds it back …
    assert page.locator("[data-testid=msg-age]").inner_text().strip() != ""
    page.fill("#f-age", age)  # … until the answer is fixed
    page.locator("[data-testid=submit-interview]").wait_for(state="visible")
    page.click("[data-testid=submit-interview]")
    page.locator("#field-entry[data-done='1']").wait_for()


def test_offline_entry_arrives_exactly_once_and_the_review_loop(live_server, phone_page):
    app = live_server.app
    base = live_server.url
    with app.app_context():
        world = make_field_world(n_cases=3, prefix="br")
        db.session.remove()
    page = phone_page
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))

    login(page, base, world.interviewer, PASSWORD)
    page.goto(f"{base}/field/")
    # The service worker controls the page and has kept every entry page of the list.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.locator("html[data-offline-ready='1']").wait_for()

    page.context.set_offline(True)
    uuids = []
    for index, visited in ((0, True), (1, False)):
        page.click(f"[data-testid=enter-{world.assignments[index]}]")
        _fill_interview(page, visited, age_first="12", age=str(40 + index))
        uuids.append(page.locator("#field-entry").get_attribute("data-uuid"))
        assert page.locator("[data-testid=outbox-count]").get_attribute("data-count") == \
            str(index + 1)
        page.click("[data-testid=back-to-list]")
        page.locator("[data-testid=outbox-count][data-count='%d']" % (index + 1)).wait_for()
    assert len(set(uuids)) == 2
    assert "2" in page.locator("[data-testid=outbox-count]").inner_text()
    screenshot(page, "field_offline_waiting")
    assert _interviews(app, world.campaign) == []  # nothing left the phone yet

    page.context.set_offline(False)
    page.evaluate("() => window.FieldOffline.sync()")
    page.locator("[data-testid=outbox-count][data-count='0']").wait_for(timeout=20_000)
    page.evaluate("() => window.FieldOffline.sync()")  # nothing left to send: nothing doubled
    stored = _interviews(app, world.campaign)
    assert sorted(u for u, *_ in stored) == sorted(uuids)
    by_uuid = {u: rest for u, *rest in stored}
    first, second = by_uuid[uuids[0]], by_uuid[uuids[1]]
    assert first[0] == world.assignments[0] and first[3] == {"visited": "yes",
                                                             "channel": "online", "age": 40}
    assert second[3] == {"visited": "no", "age": 41}  # the skipped question stays out
    assert first[4]["edits"] >= 3 and "user_agent" in first[4]

    # The supervisor returns the first interview with a comment.
    _logout(page)
    login(page, base, world.supervisor, PASSWORD)
    with app.app_context():
        first_id = db.session.scalar(sa.select(Interview.id).where(Interview.uuid == uuids[0]))
        db.session.remove()
    page.goto(f"{base}/field/interviews/{first_id}")
    page.select_option("#action", "return")
    page.fill("#comment", "Tuổi chưa đúng, hỏi lại người trả lời")
    page.click("[data-testid=review-submit]")
    page.wait_for_url(f"**/field/campaigns/{world.campaign}/review**")
    # (the outbox sends in key order, so the first interview need not have the lowest id)
    assert {u: st for u, _a, st, *_ in _interviews(app, world.campaign)}[uuids[0]] == "returned"

    # The interviewer sees it on the list with the comment, corrects it: a new version.
    _logout(page)
    login(page, base, world.interviewer, PASSWORD)
    page.goto(f"{base}/field/")
    comment = page.locator(f"[data-testid=comment-{world.assignments[0]}]")
    assert "hỏi lại người trả lời" in comment.inner_text()
    page.click(f"[data-testid=enter-{world.assignments[0]}]")
    page.locator("#field-entry[data-ready='1']").wait_for()
    assert "Tuổi chưa đúng" in page.locator("[data-testid=return-comment]").inner_text()
    assert page.locator("#field-entry").get_attribute("data-uuid") == uuids[0]  # same UUID
    assert page.is_checked("#f-channel-online")  # the answers come back for correction
    page.click("[data-testid=next]")
    page.fill("#f-age", "44")
    page.click("[data-testid=submit-interview]")
    page.locator("#field-entry[data-done='1']").wait_for()
    page.locator("[data-testid=outbox-count][data-count='0']").wait_for(timeout=20_000)
    corrected = {u: rest for u, *rest in _interviews(app, world.campaign)}[uuids[0]]
    assert tuple(corrected[1:4]) == ("submitted", 2, {"visited": "yes", "channel": "online",
                                               "age": 44})

    # … and the supervisor approves the new version: it now reaches analysis.
    page.click("[data-testid=back-to-list]")
    _logout(page)
    login(page, base, world.supervisor, PASSWORD)
    page.goto(f"{base}/field/interviews/{first_id}")
    assert page.locator("[data-testid=interview-version]").inner_text().strip() == "2"
    page.select_option("#action", "approve")
    page.click("[data-testid=review-submit]")
    page.wait_for_url(f"**/field/campaigns/{world.campaign}/review**")
    with app.app_context():
        approved = approved_interviews(db.session.get(Campaign, world.campaign))
        assert [(v.interview.uuid, v.number) for v in approved] == [(uuids[0], 2)]
        db.session.remove()
    assert dialogs == []  # nothing was waiting when anyone signed out: no warning needed
    errors = [e for e in page.console_errors
              if "ERR_INTERNET_DISCONNECTED" not in e and "Failed to fetch" not in e]
    assert errors == []


def test_signing_out_with_unsent_interviews_warns(live_server, phone_page):
    app = live_server.app
    base = live_server.url
    with app.app_context():
        world = make_field_world(n_cases=1, prefix="bw")
        db.session.remove()
    page = phone_page
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, base, world.interviewer, PASSWORD)
    page.goto(f"{base}/field/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.locator("html[data-offline-ready='1']").wait_for()
    page.context.set_offline(True)
    page.click(f"[data-testid=enter-{world.assignments[0]}]")
    _fill_interview(page, False, age_first="12", age="30")
    open_menu(page)
    page.click("[data-testid=logout]")  # dismissed: the interviewer stays signed in
    assert dialogs and "1" in dialogs[0]
    assert page.url.endswith(f"/field/assignments/{world.assignments[0]}/entry")
    page.context.set_offline(False)
    page.evaluate("() => window.FieldOffline.sync()")
    page.locator("[data-testid=outbox-count][data-count='0']").wait_for(timeout=20_000)
    assert len(_interviews(app, world.campaign)) == 1
