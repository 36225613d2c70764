// Runs computeForm/constraintHolds of surveyapp/static/js/expressions.js over cases and
// prints JSON: node run_forms.js CASES.json EXPRESSIONS.js
"use strict";
const fs = require("fs");
const path = require("path");

const input = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const E = require(path.resolve(process.argv[3]));

const out = input.cases.map((c) => {
  const doc = input.documents[c.document];
  const state = E.computeForm(doc, c.answers, c.context);
  const constraints = {};
  for (const name of c.constrained) {
    if (state.relevant[name] && Object.prototype.hasOwnProperty.call(c.answers, name)) {
      constraints[name] = E.constraintHolds(doc, name, c.answers[name], c.answers, c.context);
    }
  }
  return { relevant: state.relevant, calculated: state.calculated, constraints: constraints };
});
process.stdout.write(JSON.stringify(out));
