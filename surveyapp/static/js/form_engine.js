/*
 * The live questionnaire form shared by the phone preview (form_preview.js) and the interview
 * entry (field_entry.js): sections as pages, relevance (skip logic), calculations and
 * constraints applied with the shared expression language (window.SurveyExpressions,
 * static/js/expressions.js) — the same rules as the server's surveyapp.questionnaires.compute /
 * check_answers, which checks them again on submission.
 *
 * window.SurveyForm.create(form, doc, options) wires the server-rendered <form> (one
 * <section class="page"> per section, messages in data-msg-* attributes) to the questionnaire
 * document and returns the pieces the page script builds on. Options (all optional):
 *   requireAnswers()      false while required questions may stay empty (default: always true)
 *   inputTypes            input types re-checked while typing; textareas always are
 *                         (default: ["number", "text", "date"])
 *   clearErrorWhileTyping hide the page's warning as soon as the page is right, while typing
 *   onShowPage(i, visible) after page i is shown; visible: the indexes of the visible pages
 *   onEnd()               "Next" on the last visible page, its answers right
 *   onChange()            after every change of an answer
 */
(function () {
  "use strict";
  var E = window.SurveyExpressions;

  function create(form, doc, options) {
    options = options || {};
    var lang = form.getAttribute("data-lang") || "vi";
    var requireAnswers = options.requireAnswers || function () { return true; };
    var inputTypes = options.inputTypes || ["number", "text", "date"];
    var hook = function (name) { return options[name] || function () {}; };

    function msg(key, values) {
      var text = form.getAttribute("data-msg-" + key) || "";
      Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(values[k])); });
      return text;
    }

    function parse(text) {
      if (!text) { return null; }
      try { return E.parseExpression(text); } catch (e) { return null; }  // the builder lists it
    }

    // Every group and question in document order, with its parent group.
    var items = [];
    var byName = {};
    (function walk(children, parent) {
      children.forEach(function (it) {
        var entry = {
          name: it.name, group: it.type === "group", type: it.type, parent: parent, def: it,
          relevant: parse(it.relevant), constraint: parse(it.constraint),
          calculation: parse(it.calculation),
          el: form.querySelector('[data-name="' + it.name + '"]')
        };
        items.push(entry);
        byName[it.name] = entry;
        if (entry.group) { walk(it.children || [], entry); }
      });
    })(doc.children || [], null);
    var questions = items.filter(function (it) { return !it.group; });

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

    var state = { relevant: {}, env: {} };

    function today() {
      var d = new Date();
      function pad(n) { return (n < 10 ? "0" : "") + n; }
      return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
    }

    // Relevance and calculations to a fixed point (dependencies may point forward).
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

    // The message for one question's answer, or "" (the server's rules: required, type and
    // range, then the constraint with "." = the answer; na/dk skip the constraint).
    function problem(q) {
      if (q.type === "note" || q.type === "calculate" || !state.relevant[q.name]) { return ""; }
      var value = rawValue(q);
      var def = q.def;
      if (isEmpty(value)) { return def.required && requireAnswers() ? msg("required") : ""; }
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

    // Pages: the server renders one <section class="page"> per section.
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

    function showPage(i) {
      current = i;
      pages.forEach(function (p, k) { p.hidden = k !== i; });
      var visible = pages.map(function (p, k) { return pageVisible(k) ? k : -1; }).filter(function (k) { return k >= 0; });
      var n = visible.indexOf(i) + 1;
      if (progress) { progress.textContent = msg("page", { n: n, total: visible.length }); }
      pageError.hidden = true;
      hook("onShowPage")(i, visible);
    }

    function questionsOn(i) {
      return questions.filter(function (q) { return q.el && pages[i].contains(q.el); });
    }

    // Marks the page's wrong answers; true when there are none.
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
      if (direction > 0) { hook("onEnd")(); }
    }

    // The first visible page, once the answers (if any) are in the form.
    function start() {
      evaluateAll();
      var first = 0;
      while (first < pages.length - 1 && !pageVisible(first)) { first += 1; }
      if (pages.length) { showPage(first); }
    }

    form.addEventListener("change", function (event) {
      var target = event.target;
      var name = (target.name || "").replace(/__reserved$/, "");
      if (target.getAttribute("data-reserved") && target.checked) {
        // "not applicable" / "don't know" stand alone: clear the ordinary answer
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
      hook("onChange")();
    });
    form.addEventListener("input", function (event) {
      var q = byName[event.target.name];
      if (q && !q.group && (inputTypes.indexOf(event.target.type) >= 0 || event.target.tagName === "TEXTAREA")) {
        evaluateAll();
        show(q, problem(q));
        // Clear the page's warning as soon as the page is right, while typing: if it waited for
        // the blur ("change"), the buttons would move under the finger as it taps them.
        if (options.clearErrorWhileTyping && !pageError.hidden &&
            questionsOn(current).every(function (other) { return !problem(other); })) {
          pageError.hidden = true;
        }
      }
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.querySelector('[data-action="next"]').addEventListener("click", function () { step(1); });
    form.querySelector('[data-action="prev"]').addEventListener("click", function () { step(-1); });

    return {
      msg: msg, items: items, byName: byName, questions: questions, state: state, pages: pages,
      inputs: inputs, rawValue: rawValue, isEmpty: isEmpty, evaluateAll: evaluateAll,
      pageVisible: pageVisible, showPage: showPage, checkPage: checkPage, start: start
    };
  }

  window.SurveyForm = { create: create };
})();
