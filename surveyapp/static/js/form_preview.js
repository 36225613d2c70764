/*
 * The phone preview of a questionnaire version: sections as pages, relevance (skip logic),
 * calculations and constraints applied live by the form shared with the interview entry
 * (window.SurveyForm, static/js/form_engine.js, on window.SurveyExpressions) — the same rules
 * as the server's surveyapp.questionnaires.compute / check_answers. Nothing is sent anywhere.
 *
 * The questionnaire document comes from <script type="application/json" id="questionnaire-data">
 * (data, not code: the CSP allows no inline scripts); the form is rendered by the server.
 */
(function () {
  "use strict";
  var form = document.getElementById("form-preview");
  var data = document.getElementById("questionnaire-data");
  if (!window.SurveyExpressions || !window.SurveyForm || !form || !data) { return; }
  var doc = JSON.parse(data.textContent);
  // "End of the questionnaire": shown by "Next" on the last page, hidden by any other page.
  var finished = form.querySelector('[data-role="finished"]');

  window.SurveyForm.create(form, doc, {
    onShowPage: function () {
      finished.hidden = true;
      window.scrollTo(0, 0);
    },
    onEnd: function () { finished.hidden = false; }
  }).start();
})();
