"""The browser's form logic (computeForm, constraintHolds) agrees with the server's."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from surveyapp.questionnaires import (
    check_answers,
    compile_questionnaire,
    compute,
    standard_template,
)

from .builders import every_type_questionnaire
from .test_answers import GOOD, template_interview
from .test_expressions import canon

HERE = Path(__file__).resolve().parent
JS_MODULE = HERE.parent.parent / "surveyapp" / "static" / "js" / "expressions.js"
TODAY = "2025-06-15"


def _random_answers(rng: random.Random, q, base: dict) -> dict:
    answers = dict(base)
    for question in q.questions():
        roll = rng.random()
        if roll < 0.15:
            answers.pop(question.name, None)
        elif roll < 0.35:
            cl = q.choice_list(question.list_name)
            pool = (cl.codes() if cl else []) + ["na", "dk", "", 3, "2025-01-01", None]
            if question.type == "select_multiple":
                answers[question.name] = rng.sample(pool[:-1], k=min(2, len(pool) - 1))
            else:
                answers[question.name] = rng.choice(pool)
    return answers


def test_browser_and_server_compute_the_same_form_state(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is required to check the browser's form logic")
    forms = {"template": standard_template(), "every_type": every_type_questionnaire()}
    bases = {"template": template_interview(), "every_type": GOOD}
    rng = random.Random(7)
    cases = []
    for key, q in forms.items():
        constrained = [qq.name for qq in q.questions() if qq.constraint]
        for _ in range(40):
            cases.append({"document": key, "answers": _random_answers(rng, q, bases[key]),
                          "context": {"today": TODAY}, "constrained": constrained})
        cases.append({"document": key, "answers": bases[key], "context": {"today": TODAY},
                      "constrained": constrained})
    path = tmp_path / "cases.json"
    path.write_text(json.dumps({"documents": {k: q.to_dict() for k, q in forms.items()},
                                "cases": cases}, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run([node, str(HERE / "run_forms.js"), str(path), str(JS_MODULE)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    js_results = json.loads(proc.stdout)
    compiled = {k: compile_questionnaire(q) for k, q in forms.items()}
    differences = []
    some_constraint_failed = False
    for case, js in zip(cases, js_results, strict=True):
        cq = compiled[case["document"]]
        ev = compute(cq, case["answers"], today=TODAY)
        if ev.relevant != js["relevant"]:
            differences.append(("relevant", case["answers"], ev.relevant, js["relevant"]))
        if {k: canon(v) for k, v in ev.calculated.items()} != {
                k: canon(v) for k, v in js["calculated"].items()}:
            differences.append(("calculated", ev.calculated, js["calculated"]))
        # a constraint failure on the server appears exactly where the browser says so
        server = check_answers(cq, case["answers"], today=TODAY)
        for name, holds in js["constraints"].items():
            error = server.get(name)
            if (error is None and not holds) or (
                    error is not None and error.code == "constraint" and holds):
                differences.append(("constraint", name, case["answers"].get(name), holds))
            some_constraint_failed |= error is not None and error.code == "constraint"
    assert differences == []
    assert some_constraint_failed
