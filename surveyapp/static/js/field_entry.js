/*
 * The interview entry form (field/entry.html): sections as pages, relevance (skip logic),
 * calculations and constraints applied live by the form shared with the preview
 * (window.SurveyForm, static/js/form_engine.js) — the server checks the same rules again on
 * submission. Required questions need an answer only when the disposition is "complete".
 *
 * The interview's UUID is created here when the interview starts, saved with the draft in
 * IndexedDB (window.FieldOffline) and never regenerated; a correction keeps the UUID of the
 * returned interview. "Finish and send" moves the draft to the outbox in one transaction.
 */
(function () {
  "use strict";
  var F = window.FieldOffline;
  var form = document.getElementById("field-entry");
  var data = document.getElementById("questionnaire-data");
  if (!window.SurveyExpressions || !window.SurveyForm || !F || !form || !data) { return; }
  var doc = JSON.parse(data.textContent);
  var prefill = JSON.parse(document.getElementById("prefill-data").textContent || "{}");
  var assignmentId = Number(form.getAttribute("data-assignment-id"));
  var versionId = Number(form.getAttribute("data-version-id"));
  var mode = form.getAttribute("data-mode");
  var baseVersion = Number(form.getAttribute("data-base-version")) || null;
  var draftKey = "a:" + assignmentId + (mode === "correct" ? ":v" + baseVersion : "");
  var statusBox = form.querySelector('[data-role="status"]');
  var submitButton = form.querySelector('[data-action="submit"]');
  var disposition = form.querySelector('[name="__disposition"]');
  var draft = null;

  function newUuid() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x < 16 ? "0" : "") + x.toString(16); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function nowIso() { return new Date().toISOString(); }
  function complete() { return !disposition || disposition.value === "complete"; }

  // Required questions need an answer only when the interview is complete.
  var S = window.SurveyForm.create(form, doc, {
    requireAnswers: complete,
    inputTypes: ["number", "text"],
    clearErrorWhileTyping: true,
    onShowPage: function (i, visible) {
      var last = visible.length === 0 || i >= visible[visible.length - 1];
      submitButton.hidden = !(last || !complete());
    },
    onChange: function () { saveDraft(true); }
  });
  var msg = S.msg;
  var questions = S.questions;
  var pages = S.pages;
  var answerable = questions.filter(function (q) { return q.type !== "note" && q.type !== "calculate"; });

  function setValue(q, value) {
    if (value === null || value === undefined) { return; }
    if (value === "na" || value === "dk") {
      var box = form.querySelector('[name="' + q.name + '__reserved"][value="' + value + '"]');
      if (box) { box.checked = true; return; }
    }
    var els = S.inputs(q.name);
    if (!els.length) { return; }
    if (els[0].type === "radio" || els[0].type === "checkbox") {
      var wanted = Array.isArray(value) ? value.map(String) : [String(value)];
      els.forEach(function (el) { el.checked = wanted.indexOf(el.value) >= 0; });
    } else {
      els[0].value = String(value);
    }
  }

  function answers() {
    var out = {};
    answerable.forEach(function (q) {
      if (!S.state.relevant[q.name]) { return; }
      var v = S.rawValue(q);
      if (!S.isEmpty(v)) { out[q.name] = v; }
    });
    return out;
  }

  function saveDraft(countEdit) {
    if (!draft) { return Promise.resolve(); }
    draft.answers = answers();
    draft.disposition = disposition ? disposition.value : "complete";
    if (countEdit) { draft.edits = (draft.edits || 0) + 1; }
    draft.saved_at = nowIso();
    return F.store.putDraft(draft);
  }

  function finish() {
    S.evaluateAll();
    for (var i = 0; i < pages.length; i++) {
      if (S.pageVisible(i) && !S.checkPage(i)) { S.showPage(i); S.checkPage(i); return; }
    }
    var finishedAt = nowIso();
    var payload = {
      uuid: draft.uuid, assignment_id: assignmentId, questionnaire_version_id: versionId,
      started_at: draft.started_at, finished_at: finishedAt,
      disposition: disposition ? disposition.value : "complete",
      answers: answers(), respondent: {},
      paradata: {
        user_agent: navigator.userAgent, edits: draft.edits || 0,
        duration_s: Math.round((Date.parse(finishedAt) - Date.parse(draft.started_at)) / 1000),
        started_at: draft.started_at, finished_at: finishedAt
      }
    };
    var item = { uuid: draft.uuid, method: "POST", url: document.getElementById("field-config").getAttribute("data-api-interviews"),
                 payload: payload, assignment_id: assignmentId, queued_at: finishedAt,
                 label: (document.querySelector("h1") || {}).textContent || draft.uuid };
    if (mode === "correct") {
      payload.base_version = baseVersion;
      item.method = "PUT";
      item.url = item.url + "/" + draft.uuid;
    }
    submitButton.disabled = true;
    F.store.queue(draftKey, item).then(function () {
      draft = null;
      statusBox.textContent = msg("queued");
      form.setAttribute("data-queued", draftKey);
      return F.refresh();
    }).then(function () { return navigator.onLine ? F.sync() : null; })
      .then(function () { form.setAttribute("data-done", "1"); });
  }

  form.querySelector('[data-action="save"]').addEventListener("click", function () {
    saveDraft(false).then(function () { statusBox.textContent = msg("saved"); });
  });
  submitButton.addEventListener("click", finish);

  // Start or resume: the draft (and its UUID) is created once, when the interview starts.
  F.store.getDraft(draftKey).then(function (found) {
    if (found) {
      draft = found;
      questions.forEach(function (q) { setValue(q, found.answers[q.name]); });
      if (disposition && found.disposition) { disposition.value = found.disposition; }
    } else {
      draft = { key: draftKey, uuid: mode === "correct" ? form.getAttribute("data-interview-uuid") : newUuid(),
                assignment_id: assignmentId, questionnaire_version_id: versionId,
                base_version: baseVersion, started_at: nowIso(), answers: prefill, edits: 0 };
      questions.forEach(function (q) { setValue(q, prefill[q.name]); });
    }
    form.setAttribute("data-uuid", draft.uuid);
    S.start();
    return saveDraft(false);
  }).then(function () { form.setAttribute("data-ready", "1"); });
})();
