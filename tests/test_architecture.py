"""The import rules of ../shared/docs/style.md, enforced by parsing every module.

The pure libraries must stay usable from a notebook and testable against R alone, so they
never import the web stack; views never import the statistics directly (they go through
services).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "sampling": {"flask", "flask_sqlalchemy", "flask_wtf", "flask_login", "flask_babel",
                 "sqlalchemy", "wtforms", "xlsxwriter", "surveyapp", "analysis"},
    "analysis": {"flask", "flask_sqlalchemy", "flask_wtf", "flask_login", "flask_babel",
                 "sqlalchemy", "wtforms", "xlsxwriter", "surveyapp", "sampling"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_pure_libraries_import_no_web_stack(package):
    found = modules(package)
    assert found, f"{package}/ has no modules"
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in found
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert offenders == {}


def test_views_do_not_import_the_statistics_libraries():
    view_modules = [p for p in modules("surveyapp") if "views" in p.parts or p.name == "views.py"]
    offenders = {
        str(p.relative_to(ROOT)): sorted(imported_roots(p) & {"sampling", "analysis"})
        for p in view_modules
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_checker_detects_a_forbidden_import(tmp_path):
    # The rule must be able to fail: a module importing flask is caught.
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy\nfrom flask import Flask\n", encoding="utf-8")
    assert "flask" in imported_roots(bad) & FORBIDDEN["analysis"]
