/*
 * The survey expression language in the browser: the twin of surveyapp/expressions
 * (syntax.py + evaluate.py).  Same tokens, limits, error codes, offsets (Unicode code
 * points from 0), English messages and evaluation rules; both run the shared test vectors
 * in tests/questionnaires/expression_vectors.json.  Never generates or runs code.
 *
 * Browser: window.SurveyExpressions; Node: require(".../expressions.js").
 */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.SurveyExpressions = api;
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  var MAX_LENGTH = 2000;
  var MAX_DEPTH = 64;
  var FUNCTIONS = {
    "selected": 2, "count-selected": 1, "if": 3, "string-length": 1,
    "today": 0, "not": 1, "true": 0, "false": 0
  };
  var WHITESPACE = " \t\r\n";
  var LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  var DIGITS = "0123456789";
  var REF_START = LETTERS + "_";
  var REF_CHARS = LETTERS + DIGITS + "_.-";
  var NAME_START = LETTERS + "_";
  var NAME_CHARS = LETTERS + DIGITS + "_-";

  function has(set, ch) { return ch !== undefined && ch.length > 0 && set.indexOf(ch) >= 0; }

  function ExpressionError(code, offset, text) {
    this.name = "ExpressionError";
    this.code = code;
    this.offset = offset;
    this.message = text + " at offset " + offset;
  }
  ExpressionError.prototype = Object.create(Error.prototype);
  ExpressionError.prototype.constructor = ExpressionError;

  function showChar(ch) {
    var cp = ch.codePointAt(0);
    if (cp < 0x21 || (cp >= 0x7f && cp <= 0xa0)) {
      var hex = cp.toString(16).toUpperCase();
      while (hex.length < 4) { hex = "0" + hex; }
      return "U+" + hex;
    }
    return "'" + ch + "'";
  }

  function isValidName(name) {
    var chars = Array.from(name);
    if (chars.length === 0 || chars.length > 64 || !has(REF_START, chars[0])) { return false; }
    for (var i = 0; i < chars.length; i++) {
      if (!has(REF_CHARS, chars[i])) { return false; }
    }
    return true;
  }

  function findChar(chars, ch, from) {
    for (var i = from; i < chars.length; i++) { if (chars[i] === ch) { return i; } }
    return -1;
  }

  function tokenize(text) {
    var chars = Array.from(text);
    var n = chars.length;
    var i = 0;
    var tokens = [];
    while (i < n) {
      var ch = chars[i];
      if (has(WHITESPACE, ch)) { i += 1; continue; }
      var start = i;
      if (has(DIGITS, ch) || (ch === "." && i + 1 < n && has(DIGITS, chars[i + 1]))) {
        while (i < n && has(DIGITS, chars[i])) { i += 1; }
        if (i < n && chars[i] === ".") {
          i += 1;
          while (i < n && has(DIGITS, chars[i])) { i += 1; }
        }
        tokens.push({ kind: "num", text: chars.slice(start, i).join(""), offset: start });
        continue;
      }
      if (ch === ".") { tokens.push({ kind: "cur", text: ".", offset: start }); i += 1; continue; }
      if (ch === "'" || ch === "\"") {
        var end = findChar(chars, ch, i + 1);
        if (end < 0) { throw new ExpressionError("unterminated_string", start, "Unterminated string"); }
        tokens.push({ kind: "str", text: chars.slice(i + 1, end).join(""), offset: start });
        i = end + 1;
        continue;
      }
      if (ch === "$") {
        if (i + 1 >= n || chars[i + 1] !== "{") {
          throw new ExpressionError("unexpected_char", start, "Unexpected character '$'");
        }
        var close = findChar(chars, "}", i + 2);
        if (close < 0) { throw new ExpressionError("unterminated_ref", start, "Unterminated reference '${'"); }
        var name = chars.slice(i + 2, close).join("");
        if (!isValidName(name)) {
          throw new ExpressionError("bad_ref_name", start, "Invalid question name '" + name + "' in reference");
        }
        tokens.push({ kind: "ref", text: name, offset: start });
        i = close + 1;
        continue;
      }
      if (has(NAME_START, ch)) {
        while (i < n && has(NAME_CHARS, chars[i])) { i += 1; }
        tokens.push({ kind: "name", text: chars.slice(start, i).join(""), offset: start });
        continue;
      }
      if (ch === "<" || ch === ">" || ch === "!") {
        if (i + 1 < n && chars[i + 1] === "=") {
          tokens.push({ kind: "op", text: ch + "=", offset: start });
          i += 2;
          continue;
        }
        if (ch === "!") { throw new ExpressionError("unexpected_char", start, "Unexpected character '!'"); }
        tokens.push({ kind: "op", text: ch, offset: start });
        i += 1;
        continue;
      }
      if (has("=+-*(),", ch)) { tokens.push({ kind: "op", text: ch, offset: start }); i += 1; continue; }
      throw new ExpressionError("unexpected_char", start, "Unexpected character " + showChar(ch));
    }
    tokens.push({ kind: "eof", text: "", offset: n });
    return tokens;
  }

  function describe(tok) {
    if (tok.kind === "num") { return "number " + tok.text; }
    if (tok.kind === "str") { return "string"; }
    if (tok.kind === "ref") { return "${" + tok.text + "}"; }
    if (tok.kind === "cur") { return "'.'"; }
    return "'" + tok.text + "'";
  }

  function Parser(tokens) { this.tokens = tokens; this.pos = 0; this.level = 0; }
  Parser.prototype.peek = function () { return this.tokens[this.pos]; };
  Parser.prototype.advance = function () { var t = this.tokens[this.pos]; this.pos += 1; return t; };
  Parser.prototype.unexpected = function (tok) {
    if (tok.kind === "eof") { return new ExpressionError("unexpected_end", tok.offset, "Unexpected end of expression"); }
    return new ExpressionError("unexpected_token", tok.offset, "Unexpected " + describe(tok));
  };
  Parser.prototype.tooDeep = function (offset) {
    return new ExpressionError("too_deep", offset, "Expression nested too deeply (more than " + MAX_DEPTH + " levels)");
  };
  Parser.prototype.enter = function (tok) {
    this.level += 1;
    if (this.level > MAX_DEPTH) { throw this.tooDeep(tok.offset); }
  };
  Parser.prototype.node = function (node) {
    if (node.depth > MAX_DEPTH) { throw this.tooDeep(node.offset); }
    return node;
  };
  Parser.prototype.binary = function (op, left, right, offset) {
    return this.node({ type: "binary", op: op, left: left, right: right, offset: offset,
      depth: 1 + Math.max(left.depth, right.depth) });
  };
  Parser.prototype.isKeyword = function (word) {
    var t = this.peek();
    return t.kind === "name" && t.text === word;
  };
  Parser.prototype.isOp = function (list) {
    var t = this.peek();
    return t.kind === "op" && list.indexOf(t.text) >= 0;
  };
  Parser.prototype.parseOr = function () {
    var left = this.parseAnd();
    while (this.isKeyword("or")) {
      var tok = this.advance();
      left = this.binary("or", left, this.parseAnd(), tok.offset);
    }
    return left;
  };
  Parser.prototype.parseAnd = function () {
    var left = this.parseEquality();
    while (this.isKeyword("and")) {
      var tok = this.advance();
      left = this.binary("and", left, this.parseEquality(), tok.offset);
    }
    return left;
  };
  Parser.prototype.parseEquality = function () {
    var left = this.parseRelational();
    while (this.isOp(["=", "!="])) {
      var tok = this.advance();
      left = this.binary(tok.text, left, this.parseRelational(), tok.offset);
    }
    return left;
  };
  Parser.prototype.parseRelational = function () {
    var left = this.parseAdditive();
    while (this.isOp(["<", "<=", ">", ">="])) {
      var tok = this.advance();
      left = this.binary(tok.text, left, this.parseAdditive(), tok.offset);
    }
    return left;
  };
  Parser.prototype.parseAdditive = function () {
    var left = this.parseMultiplicative();
    while (this.isOp(["+", "-"])) {
      var tok = this.advance();
      left = this.binary(tok.text, left, this.parseMultiplicative(), tok.offset);
    }
    return left;
  };
  Parser.prototype.parseMultiplicative = function () {
    var left = this.parseUnary();
    for (;;) {
      var tok = this.peek();
      if ((tok.kind === "op" && tok.text === "*") ||
          (tok.kind === "name" && (tok.text === "div" || tok.text === "mod"))) {
        this.advance();
        left = this.binary(tok.text, left, this.parseUnary(), tok.offset);
      } else {
        return left;
      }
    }
  };
  Parser.prototype.parseUnary = function () {
    var tok = this.peek();
    if (tok.kind === "op" && tok.text === "-") {
      this.advance();
      this.enter(tok);
      var operand = this.parseUnary();
      this.level -= 1;
      return this.node({ type: "unary", op: "-", operand: operand, offset: tok.offset, depth: operand.depth + 1 });
    }
    return this.parsePrimary();
  };
  Parser.prototype.expect = function (text) {
    var tok = this.peek();
    if (tok.kind === "op" && tok.text === text) { return this.advance(); }
    throw this.unexpected(tok);
  };
  Parser.prototype.parsePrimary = function () {
    var tok = this.advance();
    if (tok.kind === "num") {
      // a literal beyond the double range is "no number", like any overflow
      var num = Number(tok.text);
      return { type: "literal", value: isFinite(num) ? num : "", offset: tok.offset, depth: 1 };
    }
    if (tok.kind === "str") { return { type: "literal", value: tok.text, offset: tok.offset, depth: 1 }; }
    if (tok.kind === "ref") { return { type: "ref", name: tok.text, offset: tok.offset, depth: 1 }; }
    if (tok.kind === "cur") { return { type: "current", offset: tok.offset, depth: 1 }; }
    if (tok.kind === "op" && tok.text === "(") {
      this.enter(tok);
      var inner = this.parseOr();
      this.expect(")");
      this.level -= 1;
      return inner;
    }
    if (tok.kind === "name") {
      var nxt = this.peek();
      if (nxt.kind === "op" && nxt.text === "(") { return this.parseCall(tok); }
    }
    throw this.unexpected(tok);
  };
  Parser.prototype.parseCall = function (nameTok) {
    var name = nameTok.text;
    if (!Object.prototype.hasOwnProperty.call(FUNCTIONS, name)) {
      throw new ExpressionError("unknown_function", nameTok.offset, "Unknown function '" + name + "'");
    }
    var openTok = this.advance();
    this.enter(openTok);
    var args = [];
    if (!this.isOp([")"])) {
      args.push(this.parseOr());
      while (this.isOp([","])) {
        this.advance();
        args.push(this.parseOr());
      }
    }
    this.expect(")");
    this.level -= 1;
    var expected = FUNCTIONS[name];
    if (args.length !== expected) {
      throw new ExpressionError("wrong_arity", nameTok.offset,
        "Function '" + name + "' expects " + expected + " argument(s) but got " + args.length);
    }
    var depth = 1;
    for (var i = 0; i < args.length; i++) { depth = Math.max(depth, 1 + args[i].depth); }
    return this.node({ type: "call", name: name, args: args, offset: nameTok.offset, depth: depth });
  };

  function parseExpression(text) {
    if (typeof text !== "string") { throw new TypeError("expression must be a string"); }
    var length = Array.from(text).length;
    if (length > MAX_LENGTH) {
      throw new ExpressionError("too_long", MAX_LENGTH,
        "Expression too long (" + length + " characters; at most " + MAX_LENGTH + ")");
    }
    var blank = true;
    for (var i = 0; i < text.length; i++) { if (!has(WHITESPACE, text[i])) { blank = false; break; } }
    if (blank) { throw new ExpressionError("empty", 0, "Empty expression"); }
    var parser = new Parser(tokenize(text));
    var tree = parser.parseOr();
    var tok = parser.peek();
    if (tok.kind !== "eof") { throw parser.unexpected(tok); }
    return tree;
  }

  function references(node) {
    var seen = [];
    var stack = [node];
    while (stack.length) {
      var cur = stack.pop();
      if (cur.type === "ref" && seen.indexOf(cur.name) < 0) { seen.push(cur.name); }
      if (cur.type === "unary") { stack.push(cur.operand); }
      if (cur.type === "binary") { stack.push(cur.right, cur.left); }
      if (cur.type === "call") { for (var i = cur.args.length - 1; i >= 0; i--) { stack.push(cur.args[i]); } }
    }
    return seen;
  }

  // ------------------------------------------------------------------ evaluation

  function isNumberText(s) {
    if (s.charAt(0) === "-") { s = s.slice(1); }
    if (s.length === 0) { return false; }
    var dot = s.indexOf(".");
    var head = dot < 0 ? s : s.slice(0, dot);
    var tail = dot < 0 ? "" : s.slice(dot + 1);
    var i;
    for (i = 0; i < head.length; i++) { if (DIGITS.indexOf(head[i]) < 0) { return false; } }
    for (i = 0; i < tail.length; i++) { if (DIGITS.indexOf(tail[i]) < 0) { return false; } }
    return head.length > 0 || (dot >= 0 && tail.length > 0);
  }

  function stripSpace(s) {
    var a = 0;
    var b = s.length;
    while (a < b && WHITESPACE.indexOf(s[a]) >= 0) { a += 1; }
    while (b > a && WHITESPACE.indexOf(s[b - 1]) >= 0) { b -= 1; }
    return s.slice(a, b);
  }

  function toNumber(value) {
    if (typeof value === "boolean") { return value ? 1 : 0; }
    if (typeof value === "number") { return isFinite(value) ? value : NaN; }
    if (Array.isArray(value)) { value = toStr(value); }
    if (typeof value === "string") {
      var s = stripSpace(value);
      if (!isNumberText(s)) { return NaN; }
      var v = Number(s);
      return isFinite(v) ? v : NaN;
    }
    return NaN;
  }

  function toStr(value) {
    if (typeof value === "boolean") { return value ? "true" : "false"; }
    if (typeof value === "number") { return isFinite(value) ? String(value) : ""; }
    if (Array.isArray(value)) { return value.map(toStr).join(" "); }
    if (typeof value === "string") { return value; }
    return "";
  }

  function toBoolean(value) {
    if (typeof value === "boolean") { return value; }
    if (typeof value === "number") { return value === value && value !== 0; }
    if (typeof value === "string" || Array.isArray(value)) { return value.length > 0; }
    return false;
  }

  function isEmpty(value) {
    return value === null || value === undefined || value === "" || (Array.isArray(value) && value.length === 0);
  }

  function isDateText(s) {
    if (typeof s !== "string" || s.length !== 10 || s[4] !== "-" || s[7] !== "-") { return false; }
    var idx = [0, 1, 2, 3, 5, 6, 8, 9];
    for (var i = 0; i < idx.length; i++) { if (DIGITS.indexOf(s[idx[i]]) < 0) { return false; } }
    return true;
  }

  function tokensOf(value) {
    if (Array.isArray(value)) { return value.map(toStr); }
    var s = toStr(value);
    var out = [];
    var word = "";
    for (var i = 0; i < s.length; i++) {
      if (WHITESPACE.indexOf(s[i]) >= 0) {
        if (word) { out.push(word); }
        word = "";
      } else {
        word += s[i];
      }
    }
    if (word) { out.push(word); }
    return out;
  }

  function normalise(value) {
    if (value === null || value === undefined) { return ""; }
    if (typeof value === "boolean") { return value; }
    if (typeof value === "number") {
      if (!isFinite(value)) { return ""; }
      return value === 0 ? 0 : value;
    }
    if (Array.isArray(value)) { return value.map(function (v) { return toStr(normalise(v)); }); }
    if (typeof value === "string") { return value; }
    return "";
  }

  function numberResult(v) {
    if (!isFinite(v)) { return ""; }
    return v === 0 ? 0 : v;
  }

  function codePointCompare(a, b) {
    var x = Array.from(a);
    var y = Array.from(b);
    var n = Math.min(x.length, y.length);
    for (var i = 0; i < n; i++) {
      var p = x[i].codePointAt(0);
      var q = y[i].codePointAt(0);
      if (p !== q) { return p < q ? -1 : 1; }
    }
    return x.length === y.length ? 0 : (x.length < y.length ? -1 : 1);
  }

  function equal(a, b) {
    if (typeof a === "boolean" || typeof b === "boolean") { return toBoolean(a) === toBoolean(b); }
    if (typeof a === "number" || typeof b === "number") { return toNumber(a) === toNumber(b); }
    return toStr(a) === toStr(b);
  }

  function relational(op, a, b) {
    if (isEmpty(a) || isEmpty(b)) { return false; }
    var c;
    if (isDateText(a) && isDateText(b)) {
      c = codePointCompare(a, b);
    } else {
      var x = toNumber(a);
      var y = toNumber(b);
      if (x !== x || y !== y) { return false; }
      c = x < y ? -1 : (x > y ? 1 : 0);
    }
    if (op === "<") { return c < 0; }
    if (op === "<=") { return c <= 0; }
    if (op === ">") { return c > 0; }
    return c >= 0;
  }

  function arith(op, a, b) {
    var x = toNumber(a);
    var y = toNumber(b);
    if (x !== x || y !== y) { return ""; }
    if (op === "+") { return numberResult(x + y); }
    if (op === "-") { return numberResult(x - y); }
    if (op === "*") { return numberResult(x * y); }
    if (y === 0) { return ""; }
    if (op === "div") { return numberResult(x / y); }
    return numberResult(x % y);
  }

  function pad(n, width) {
    var s = String(n);
    while (s.length < width) { s = "0" + s; }
    return s;
  }

  function todayOf(context) {
    var t = context.today;
    if (typeof t === "string" && t) { return t; }
    if (t instanceof Date) { return pad(t.getFullYear(), 4) + "-" + pad(t.getMonth() + 1, 2) + "-" + pad(t.getDate(), 2); }
    var d = new Date();
    return pad(d.getFullYear(), 4) + "-" + pad(d.getMonth() + 1, 2) + "-" + pad(d.getDate(), 2);
  }

  function lookup(answers, name) {
    return Object.prototype.hasOwnProperty.call(answers, name) ? answers[name] : undefined;
  }

  function run(node, answers, context) {
    switch (node.type) {
      case "literal": return node.value;
      case "ref": return normalise(lookup(answers, node.name));
      case "current": return normalise(context.current);
      case "unary": {
        var v = toNumber(run(node.operand, answers, context));
        return v !== v ? "" : numberResult(-v);
      }
      case "binary": {
        var op = node.op;
        if (op === "and") { return toBoolean(run(node.left, answers, context)) && toBoolean(run(node.right, answers, context)); }
        if (op === "or") { return toBoolean(run(node.left, answers, context)) || toBoolean(run(node.right, answers, context)); }
        var a = run(node.left, answers, context);
        var b = run(node.right, answers, context);
        if (op === "=") { return equal(a, b); }
        if (op === "!=") { return !equal(a, b); }
        if (op === "<" || op === "<=" || op === ">" || op === ">=") { return relational(op, a, b); }
        return arith(op, a, b);
      }
      default: return call(node, answers, context);
    }
  }

  function call(node, answers, context) {
    var args = node.args;
    switch (node.name) {
      case "if": return run(toBoolean(run(args[0], answers, context)) ? args[1] : args[2], answers, context);
      case "selected": return tokensOf(run(args[0], answers, context)).indexOf(toStr(run(args[1], answers, context))) >= 0;
      case "count-selected": return tokensOf(run(args[0], answers, context)).length;
      case "string-length": return Array.from(toStr(run(args[0], answers, context))).length;
      case "today": return todayOf(context);
      case "not": return !toBoolean(run(args[0], answers, context));
      case "true": return true;
      default: return false;
    }
  }

  function evaluate(ast, answers, context) {
    return run(ast, answers || {}, context || {});
  }

  // ------------------------------------------------------- whole questionnaires
  // The twin of surveyapp.questionnaires.answers.compute(): relevance of every group and
  // question and the calculated values, for a questionnaire document (to_dict() JSON).
  // Expressions are parsed once per document and cached on a WeakMap.

  var compiledForms = typeof WeakMap === "function" ? new WeakMap() : null;

  function compileForm(doc) {
    if (compiledForms && compiledForms.has(doc)) { return compiledForms.get(doc); }
    var items = [];
    var byName = {};
    function visit(children, parent) {
      for (var i = 0; i < children.length; i++) {
        var item = children[i];
        var entry = { item: item, parent: parent, position: items.length, asts: {} };
        ["relevant", "constraint", "calculation"].forEach(function (field) {
          if (typeof item[field] === "string") { entry.asts[field] = parseExpression(item[field]); }
        });
        items.push(entry);
        byName[item.name] = entry;
        if (item.type === "group") { visit(item.children || [], item.name); }
      }
    }
    visit(doc.children || [], null);
    // dependencies: enclosing group, names in relevant and calculation (as on the server)
    var waiting = {};
    var users = {};
    items.forEach(function (e) { users[e.item.name] = []; });
    items.forEach(function (e) {
      var deps = [];
      if (e.parent !== null) { deps.push(e.parent); }
      ["relevant", "calculation"].forEach(function (field) {
        if (e.asts[field]) {
          references(e.asts[field]).forEach(function (n) {
            if (deps.indexOf(n) < 0 && Object.prototype.hasOwnProperty.call(byName, n)) { deps.push(n); }
          });
        }
      });
      waiting[e.item.name] = deps.length;
      deps.forEach(function (d) { users[d].push(e.item.name); });
    });
    var ready = items.filter(function (e) { return waiting[e.item.name] === 0; });
    var order = [];
    while (ready.length) {
      ready.sort(function (a, b) { return a.position - b.position; });
      var next = ready.shift();
      order.push(next);
      users[next.item.name].forEach(function (u) {
        waiting[u] -= 1;
        if (waiting[u] === 0) { ready.push(byName[u]); }
      });
    }
    if (order.length !== items.length) { throw new Error("circular references in the questionnaire"); }
    var compiled = { order: order, byName: byName };
    if (compiledForms) { compiledForms.set(doc, compiled); }
    return compiled;
  }

  function toJsonValue(v) { return v === "" ? null : v; }

  function computeForm(doc, answers, context) {
    var form = compileForm(doc);
    var ctx = context || {};
    var env = {};
    var name;
    for (name in form.byName) {
      if (Object.prototype.hasOwnProperty.call(form.byName, name)) {
        var t = form.byName[name].item.type;
        if (t !== "group" && t !== "calculate" && t !== "note") {
          env[name] = answers && Object.prototype.hasOwnProperty.call(answers, name) ? answers[name] : null;
        }
      }
    }
    var relevant = {};
    var calculated = {};
    form.order.forEach(function (e) {
      var item = e.item;
      var ok = e.parent !== null ? relevant[e.parent] : true;
      if (ok && e.asts.relevant) { ok = toBoolean(evaluate(e.asts.relevant, env, ctx)); }
      relevant[item.name] = ok;
      if (item.type !== "group") {
        if (!ok) {
          env[item.name] = null;
        } else if (item.type === "calculate") {
          var value = toJsonValue(evaluate(e.asts.calculation, env, ctx));
          env[item.name] = value;
          calculated[item.name] = value;
        }
      }
    });
    return { relevant: relevant, calculated: calculated, values: env };
  }

  // true when the question's constraint holds for value (or does not apply: empty, na, dk)
  function constraintHolds(doc, questionName, value, answers, context) {
    var form = compileForm(doc);
    var entry = form.byName[questionName];
    if (!entry || !entry.asts.constraint || isEmpty(value) || value === "na" || value === "dk") { return true; }
    var state = computeForm(doc, answers, context);
    var ctx = {};
    var k;
    for (k in (context || {})) { if (Object.prototype.hasOwnProperty.call(context, k)) { ctx[k] = context[k]; } }
    ctx.current = value;
    return toBoolean(evaluate(entry.asts.constraint, state.values, ctx));
  }

  return {
    MAX_LENGTH: MAX_LENGTH,
    MAX_DEPTH: MAX_DEPTH,
    FUNCTIONS: FUNCTIONS,
    ExpressionError: ExpressionError,
    parseExpression: parseExpression,
    evaluate: evaluate,
    evaluateBoolean: function (ast, answers, context) { return toBoolean(evaluate(ast, answers, context)); },
    references: references,
    computeForm: computeForm,
    constraintHolds: constraintHolds,
    toBoolean: toBoolean,
    toNumber: toNumber,
    toString: toStr,
    isEmpty: isEmpty
  };
});
