/*
 * The interview entry form (field/entry.html): sections as pages, relevance (skip logic),
 * calculations and constraints applied live with the shared expression language
 * (window.SurveyExpressions) — the server checks the same rules again on submission.
 *
 * The interview's UUID is created here when the interview starts, saved with the draft in
 * IndexedDB (window.FieldOffline) and never regenerated; a correction keeps the UUID of the
 * returned interview. "Finish and send" moves the draft to the outbox in one transaction.
 */
(function () {
  "use strict";
  var E = window.SurveyExpressions;
  var F = window.FieldOffline;
  var form = document.getElementById("field-entry");
  var data = document.getElementById("questionnaire-data");
  if (!E || !F || !form || !data) { return; }
  var doc = JSON.parse(data.textContent);
  var prefill = JSON.parse(document.getElementById("prefill-data").textContent || "{}");
  var lang = form.getAttribute("data-lang") || "vi";
  var assignmentId = Number(form.getAttribute("data-assignment-id"));
  var versionId = Number(form.getAttribute("data-version-id"));
  var mode = form.getAttribute("data-mode");
  var baseVersion = Number(form.getAttribute("data-base-version")) || null;
  var draftKey = "a:" + assignmentId + (mode === "correct" ? ":v" + baseVersion : "");
  var statusBox = form.querySelector('[data-role="status"]');
  var submitButton = form.querySelector('[data-action="submit"]');
  var disposition = form.querySelector('[name="__disposition"]');
  var draft = null;

  function msg(key, values) {
    var text = form.getAttribute("data-msg-" + key) || "";
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(values[k])); });
    return text;
  }
  function parse(text) {
    if (!text) { return null; }
    try { return E.parseExpression(text); } catch (e) { return null; }
  }
  function newUuid() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x < 16 ? "0" : "") + x.toString(16); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function nowIso() { return new Date().toISOString(); }

  var items = [];
  var byName = {};
  (function walk(children, parent) {
    children.forEach(function (it) {
      var entry = {
        name: it.name, group: it.type === "group", type: it.type, parent: parent, def: it,
        relevant: parse(it.relevant), constraint: parse(it.constraint), calculation: parse(it.calculation),
        el: form.querySelector('[data-name="' + it.name + '"]')
      };
      items.push(entry);
      byName[it.name] = entry;
      if (entry.group) { walk(it.children || [], entry); }
    });
  })(doc.children || [], null);
  var questions = items.filter(function (it) { return !it.group; });
  var answerable = questions.filter(function (q) { return q.type !== "note" && q.type !== "calculate"; });

  function inputs(name) { return form.querySelectorAll('[name="' + name + '"]'); }
  function reserved(name) { return form.querySelector('[name="' + name + '__reserved"]:checked'); }

  function rawValue(q) {
    var r = reserved(q.name);
    if (r) { return r.value; }
    var els = inputs(q.name);
    if (!els.length) { return null; }
    if (q.type === "select_multiple") {
      var codes = [];
      els.forEach(function (el) { if (el.checked) { codes.push(el.value); } });
      return codes.length ? codes : null;
    }
    if (els[0].type === "radio") {
      var chosen = null;
      els.forEach(function (el) { if (el.checked) { chosen = el.value; } });
      if (chosen !== null && q.type === "rating") { return Number(chosen); }
      return chosen;
    }
    var text = els[0].value;
    if (text === "") { return null; }
    if (q.type === "integer" || q.type === "decimal") {
      var n = Number(text);
      return isFinite(n) ? n : text;
    }
    return text;
  }

  function setValue(q, value) {
    if (value === null || value === undefined) { return; }
    if (value === "na" || value === "dk") {
      var box = form.querySelector('[name="' + q.name + '__reserved"][value="' + value + '"]');
      if (box) { box.checked = true; return; }
    }
    var els = inputs(q.name);
    if (!els.length) { return; }
    if (els[0].type === "radio" || els[0].type === "checkbox") {
      var wanted = Array.isArray(value) ? value.map(String) : [String(value)];
      els.forEach(function (el) { el.checked = wanted.indexOf(el.value) >= 0; });
    } else {
      els[0].value = String(value);
    }
  }

  var state = { relevant: {}, env: {} };
  function today() {
    var d = new Date();
    function pad(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  function evaluateAll() {
    var env = {};
    questions.forEach(function (q) { if (q.type !== "calculate" && q.type !== "note") { env[q.name] = rawValue(q); } });
    var relevant = {};
    var context = { today: today() };
    for (var pass = 0; pass <= items.length; pass++) {
      var changed = false;
      items.forEach(function (it) {
        var ok = it.parent ? relevant[it.parent.name] !== false : true;
        if (ok && it.relevant) { ok = E.toBoolean(E.evaluate(it.relevant, env, context)); }
        if (relevant[it.name] !== ok) { changed = true; }
        relevant[it.name] = ok;
        if (it.group) { return; }
        if (it.type === "calculate") {
          var v = ok && it.calculation ? E.evaluate(it.calculation, env, context) : null;
          if (v === "") { v = null; }
          if (env[it.name] !== v) { changed = true; }
          env[it.name] = v;
        } else if (it.type !== "note" && !ok && env[it.name] !== null) {
          env[it.name] = null;
          changed = true;
        }
      });
      if (!changed) { break; }
    }
    state.relevant = relevant;
    state.env = env;
    items.forEach(function (it) {
      if (!it.el) { return; }
      it.el.hidden = !relevant[it.name];
      if (it.type === "calculate") {
        var out = it.el.querySelector('[data-role="calc"]');
        if (out) { out.textContent = env[it.name] === null || env[it.name] === undefined ? "" : E.toString(env[it.name]); }
      }
    });
  }

  function isEmpty(v) { return v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0); }
  function complete() { return !disposition || disposition.value === "complete"; }

  function problem(q) {
    if (q.type === "note" || q.type === "calculate" || !state.relevant[q.name]) { return ""; }
    var value = rawValue(q);
    var def = q.def;
    if (isEmpty(value)) { return def.required && complete() ? msg("required") : ""; }
    if (value === "na" || value === "dk") { return ""; }
    if (q.type === "integer" || q.type === "decimal") {
      if (typeof value !== "number") { return msg("invalid"); }
      if (q.type === "integer" && Math.floor(value) !== value) { return msg("integer"); }
      var lo = def.minimum, hi = def.maximum;
      var low = lo !== undefined && lo !== null && value < lo;
      var high = hi !== undefined && hi !== null && value > hi;
      if (low || high) {
        if (lo !== undefined && lo !== null && hi !== undefined && hi !== null) { return msg("range", { lo: lo, hi: hi }); }
        return low ? msg("min", { lo: lo }) : msg("max", { hi: hi });
      }
    }
    if (q.constraint) {
      var ok = E.toBoolean(E.evaluate(q.constraint, state.env, { today: today(), current: value }));
      if (!ok) {
        var m = def.constraint_message || {};
        return m[lang] || m.vi || m.en || msg("invalid");
      }
    }
    return "";
  }

  function show(q, text) {
    if (!q.el) { return; }
    var box = q.el.querySelector('[data-role="message"]');
    if (box) { box.textContent = text; }
    q.el.classList.toggle("is-invalid", !!text);
  }

  var pages = Array.prototype.slice.call(form.querySelectorAll("section.page"));
  var current = 0;
  var progress = form.querySelector('[data-role="progress"]');
  var pageError = form.querySelector('[data-role="page-error"]');

  function pageVisible(i) {
    var shown = pages[i].querySelectorAll(".q, .grp");
    for (var k = 0; k < shown.length; k++) {
      var it = byName[shown[k].getAttribute("data-name")];
      if (it && state.relevant[it.name] && !it.group && it.type !== "calculate") { return true; }
    }
    return false;
  }
  function visiblePages() {
    return pages.map(function (p, k) { return pageVisible(k) ? k : -1; }).filter(function (k) { return k >= 0; });
  }
  function showPage(i) {
    current = i;
    pages.forEach(function (p, k) { p.hidden = k !== i; });
    var visible = visiblePages();
    var n = visible.indexOf(i) + 1;
    if (progress) { progress.textContent = msg("page", { n: n, total: visible.length }); }
    pageError.hidden = true;
    var last = visible.length === 0 || i >= visible[visible.length - 1];
    submitButton.hidden = !(last || !complete());
  }
  function questionsOn(i) { return questions.filter(function (q) { return q.el && pages[i].contains(q.el); }); }
  function checkPage(i) {
    var bad = questionsOn(i).filter(function (q) { var t = problem(q); show(q, t); return !!t; });
    if (bad.length) { pageError.textContent = msg("fix"); pageError.hidden = false; }
    return bad.length === 0;
  }
  function step(direction) {
    if (direction > 0 && !checkPage(current)) { return; }
    for (var k = current + direction; k >= 0 && k < pages.length; k += direction) {
      if (pageVisible(k)) { showPage(k); return; }
    }
  }

  function answers() {
    var out = {};
    answerable.forEach(function (q) {
      if (!state.relevant[q.name]) { return; }
      var v = rawValue(q);
      if (!isEmpty(v)) { out[q.name] = v; }
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
    evaluateAll();
    for (var i = 0; i < pages.length; i++) {
      if (pageVisible(i) && !checkPage(i)) { showPage(i); checkPage(i); return; }
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

  form.addEventListener("change", function (event) {
    var target = event.target;
    var name = (target.name || "").replace(/__reserved$/, "");
    if (target.getAttribute("data-reserved") && target.checked) {
      inputs(name).forEach(function (el) { if (el.type === "radio" || el.type === "checkbox") { el.checked = false; } else { el.value = ""; } });
      form.querySelectorAll('[name="' + name + '__reserved"]').forEach(function (el) { if (el !== target) { el.checked = false; } });
    } else if (!target.getAttribute("data-reserved")) {
      form.querySelectorAll('[name="' + name + '__reserved"]').forEach(function (el) { el.checked = false; });
    }
    evaluateAll();
    var q = byName[name];
    if (q && !q.group) { show(q, problem(q)); }
    questions.forEach(function (other) { if (!state.relevant[other.name]) { show(other, ""); } });
    showPage(current);
    saveDraft(true);
  });
  form.addEventListener("input", function (event) {
    var q = byName[event.target.name];
    if (q && (event.target.type === "number" || event.target.type === "text" || event.target.tagName === "TEXTAREA")) {
      evaluateAll();
      show(q, problem(q));
      // Clear the page's warning as soon as the page is right, while typing: if it waited for
      // the blur ("change"), the buttons would move under the finger as it taps them.
      if (!pageError.hidden && questionsOn(current).every(function (other) { return !problem(other); })) {
        pageError.hidden = true;
      }
    }
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.querySelector('[data-action="next"]').addEventListener("click", function () { step(1); });
  form.querySelector('[data-action="prev"]').addEventListener("click", function () { step(-1); });
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
    evaluateAll();
    var first = 0;
    while (first < pages.length - 1 && !pageVisible(first)) { first += 1; }
    if (pages.length) { showPage(first); }
    return saveDraft(false);
  }).then(function () { form.setAttribute("data-ready", "1"); });
})();
