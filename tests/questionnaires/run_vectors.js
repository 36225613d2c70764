// Runs the shared expression vectors through surveyapp/static/js/expressions.js and prints
// the results as JSON: node run_vectors.js VECTORS.json EXPRESSIONS.js
"use strict";
const fs = require("fs");
const path = require("path");

const vectors = JSON.parse(fs.readFileSync(process.argv[2], "utf8")).vectors;
const E = require(path.resolve(process.argv[3]));

const results = vectors.map((v) => {
  try {
    const ast = E.parseExpression(v.expr);
    return { id: v.id, value: E.evaluate(ast, v.answers, v.context) };
  } catch (e) {
    if (e instanceof E.ExpressionError) {
      return { id: v.id, error: { code: e.code, offset: e.offset, message: e.message } };
    }
    return { id: v.id, crash: String(e && e.stack ? e.stack : e) };
  }
});
process.stdout.write(JSON.stringify(results));
