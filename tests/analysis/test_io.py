"""analysis.io.read_csv: the typing rule and the file formats it accepts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.errors import DataError
from analysis.io import read_csv


def write(tmp_path, text: str | bytes, name: str = "d.csv"):
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


def test_numbers_are_parsed_exactly_like_python_float(tmp_path):
    vals = ["0.1", "-2.5", "1e5", "123456789012345678", "0.03361909564632711", "+3", "-0",
            ".5", "5.", "inf", "44.2099990844727", "1018"]
    t = read_csv(write(tmp_path, "v,w\n" + "\n".join(f"{v},1" for v in vals) + "\n"))
    assert t["v"].dtype == np.float64
    assert [float(x) for x in t["v"]] == [float(v) for v in vals]


def test_typing_rule_text_anywhere_makes_the_column_categorical(tmp_path):
    # text far down the file (beyond the first chunk of rows) still decides the type
    rows = [f"{i},{i % 3}" for i in range(70000)]
    rows[-3] = "x,1"
    t = read_csv(write(tmp_path, "a,b\n" + "\n".join(rows) + "\n"))
    assert t["a"].dtype == object and t["a"][0] == "0" and t["a"][-3] == "x"
    assert t["b"].dtype == np.float64 and len(t) == 70000


def test_missing_values_bom_crlf_and_blank_lines(tmp_path):
    t = read_csv(write(tmp_path, b"\xef\xbb\xbfg,y\r\nA,1\r\n,\r\nB,2\r\n\r\n"))
    assert t.columns == ["g", "y"] and len(t) == 3
    assert list(t["g"]) == ["A", None, "B"]
    assert math.isnan(t["y"][1]) and t["y"][2] == 2.0


def test_quoted_fields(tmp_path):
    t = read_csv(write(tmp_path, 'name,n\n"Smith, J",1\n"say ""hi""",\n'))
    assert list(t["name"]) == ["Smith, J", 'say "hi"']
    assert t["n"][0] == 1.0 and math.isnan(t["n"][1])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,2\n3\n", "row 2 does not have 2 fields"),
        ("a,a\n1,2\n", "duplicate column name 'a'"),
        ("\n", "no header row"),
    ],
)
def test_malformed_files(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        read_csv(write(tmp_path, text))


def test_unreadable_file(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        read_csv(tmp_path / "missing.csv")
