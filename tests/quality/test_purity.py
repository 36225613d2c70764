"""surveyapp.quality is pure: plain data in, plain data out (no Flask, no database)."""

from __future__ import annotations

import ast
from pathlib import Path

import surveyapp.quality

FORBIDDEN = ("flask", "flask_babel", "sqlalchemy", "wtforms", "xlsxwriter")


def test_the_quality_package_imports_no_web_or_database_library():
    root = Path(surveyapp.quality.__file__).parent
    problems = []
    for path in sorted(root.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if isinstance(node, ast.ImportFrom) and node.level:
                names = [f".{node.module or ''}"]
            for name in names:
                top = name.split(".")[0]
                if top in FORBIDDEN or top == "surveyapp" or name.startswith(".."):
                    problems.append(f"{path.name}: imports {name}")
    assert problems == []
