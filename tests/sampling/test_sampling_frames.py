"""Frames: reading CSV/XLSX with Vietnamese text, validation messages, canonical digest."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from sampling import DrawPlan, FrameError, draw, frame_digest
from sampling.frame import CANONICAL_FORM
from sampling.io import read_frame


def _write_csv(path, text, bom=False):
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_csv_keeps_text_ids_and_vietnamese(tmp_path):
    p = _write_csv(
        tmp_path / "f.csv",
        "ma,co_quan,so\n001,Sở Tư pháp,12\n002,UBND phường Bến Nghé,\n",
        bom=True,
    )
    df = read_frame(p)
    assert list(df.columns) == ["ma", "co_quan", "so"]
    assert df["ma"].tolist() == ["001", "002"]
    assert df["co_quan"][1] == "UBND phường Bến Nghé"
    assert df["so"][1] is None


def test_xlsx_and_csv_of_the_same_table_have_the_same_digest(tmp_path):
    csv_path = _write_csv(
        tmp_path / "f.csv", "ma,co_quan,so,ty_le\nHS1,Sở Xây dựng,12,0.25\nHS2,Quận 1,7,1.5\n"
    )
    wb = Workbook()
    ws = wb.active
    ws.append(["ma", "co_quan", "so", "ty_le"])
    ws.append(["HS1", "Sở Xây dựng", 12, 0.25])
    ws.append(["HS2", "Quận 1", 7, 1.5])
    wb.save(tmp_path / "f.xlsx")
    a, b = read_frame(csv_path), read_frame(tmp_path / "f.xlsx")
    assert a.equals(b)
    assert frame_digest(a).sha256 == frame_digest(b).sha256


def test_column_mapping_and_sheet(tmp_path):
    wb = Workbook()
    wb.active.title = "ghi_chu"
    ws = wb.create_sheet("dan_so")
    ws.append(["Mã phường", "Dân số"])
    ws.append(["P01", 15000])
    wb.save(tmp_path / "p.xlsx")
    df = read_frame(
        tmp_path / "p.xlsx", sheet="dan_so", rename={"Mã phường": "id", "Dân số": "pop"}
    )
    assert df.to_dict("records") == [{"id": "P01", "pop": "15000"}]
    with pytest.raises(FrameError, match="no sheet named 'x'"):
        read_frame(tmp_path / "p.xlsx", sheet="x")
    with pytest.raises(FrameError, match="no column 'nope' to rename"):
        read_frame(tmp_path / "p.xlsx", sheet="dan_so", rename={"nope": "id"})


@pytest.mark.parametrize(
    "content, message",
    [
        (b"a,b,a\n1,2,3\n", "two columns are named 'a'"),
        (b"a,,c\n1,2,3\n", "column 2 of the header row has no name"),
        (b"", "empty"),
        ("a,b\n1,Sở\n".encode("cp1258", errors="replace").replace(b"?", b"\xff"), "not UTF-8"),
    ],
)
def test_bad_files_are_refused(tmp_path, content, message):
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    with pytest.raises(FrameError, match=message):
        read_frame(p)


def test_missing_file_and_unknown_extension(tmp_path):
    with pytest.raises(FrameError, match="does not exist"):
        read_frame(tmp_path / "none.csv")
    (tmp_path / "f.ods").write_bytes(b"x")
    with pytest.raises(FrameError, match=".csv or .xlsx"):
        read_frame(tmp_path / "f.ods")


def test_digest_is_order_of_columns_independent_and_detects_changes(vn_frame):
    d = frame_digest(vn_frame)
    assert d.canonical_form == CANONICAL_FORM and d.rows == 60
    assert frame_digest(vn_frame[list(reversed(vn_frame.columns))]).sha256 == d.sha256
    changed = vn_frame.copy()
    changed.loc[5, "so_ho_so"] = "999"
    d2 = frame_digest(changed)
    assert d2.sha256 != d.sha256
    assert [c for c in d.columns if d.column_sha256[c] != d2.column_sha256[c]] == ["so_ho_so"]
    # row order is part of the frame
    assert frame_digest(vn_frame.iloc[::-1].reset_index(drop=True)).sha256 != d.sha256
    # a missing value differs from an empty string... and from the text "None"
    other = vn_frame.copy()
    other.loc[0, "ghi_chu"] = "None"
    assert frame_digest(other).sha256 != d.sha256


def test_digest_normalises_unicode_but_not_numbers_and_text():
    nfc = pd.DataFrame({"t": ["Bến Nghé"]}, dtype=object)
    nfd = pd.DataFrame({"t": [unicodedata.normalize("NFD", "Bến Nghé")]}, dtype=object)
    assert frame_digest(nfc).sha256 == frame_digest(nfd).sha256
    assert (
        frame_digest(pd.DataFrame({"x": [1.0]})).sha256
        == frame_digest(pd.DataFrame({"x": [1]})).sha256
    )
    assert (
        frame_digest(pd.DataFrame({"x": [1.0]})).sha256
        != frame_digest(pd.DataFrame({"x": ["1"]})).sha256
    )
    assert (
        frame_digest(pd.DataFrame({"x": [-0.0]})).sha256
        == frame_digest(pd.DataFrame({"x": [0.0]})).sha256
    )


def test_digest_of_a_large_frame_does_not_depend_on_the_text_dtype():
    n = 1_000_000
    ids = np.arange(n).astype(str).astype(object)
    as_object = pd.DataFrame({"id": pd.Series(ids, dtype=object), "x": np.linspace(1, 2, n)})
    as_string = as_object.astype({"id": "string"})
    assert frame_digest(as_object).sha256 == frame_digest(as_string).sha256
    shifted = as_object.copy()
    shifted.loc[n - 1, "x"] = np.nextafter(2.0, 3.0)  # one ulp in the last row is seen
    assert frame_digest(shifted).column_sha256["x"] != frame_digest(as_object).column_sha256["x"]


@pytest.mark.parametrize(
    "edit, plan, message",
    [
        (
            lambda f: f.assign(ma_ho_so=["HS-0001"] * 2 + f["ma_ho_so"].tolist()[2:]),
            dict(method="srs", n=5),
            r"duplicate id 'HS-0001' in id column 'ma_ho_so' \(rows 1, 2\)",
        ),
        (
            lambda f: f.assign(ma_ho_so=[None] + f["ma_ho_so"].tolist()[1:]),
            dict(method="srs", n=5),
            "id column 'ma_ho_so' is empty in row 1",
        ),
        (
            lambda f: f.assign(so_ho_so=["12", None] + f["so_ho_so"].tolist()[2:]),
            dict(method="pps-systematic", n=5, size="so_ho_so"),
            "size column 'so_ho_so' is missing in row 2, id 'HS-0001'",
        ),
        (
            lambda f: f.assign(so_ho_so=["0"] + f["so_ho_so"].tolist()[1:]),
            dict(method="pps-brewer", n=5, size="so_ho_so"),
            "must be positive; it is '0' in row 1, id 'HS-0000'",
        ),
        (
            lambda f: f.assign(so_ho_so=["-3"] + f["so_ho_so"].tolist()[1:]),
            dict(method="pps-brewer", n=5, size="so_ho_so"),
            "must be positive; it is '-3'",
        ),
        (
            lambda f: f.assign(so_ho_so=["mười"] + f["so_ho_so"].tolist()[1:]),
            dict(method="pps-sampford", n=5, size="so_ho_so"),
            "not a number in row 1",
        ),
        (lambda f: f, dict(method="srs", n=61), "n = 61 is larger than the 60 units of the frame"),
        (
            lambda f: f,
            dict(method="srs", n=16, strata="co_quan"),
            "n = 16 is larger than the 15 units in stratum 'Sở Tư pháp'",
        ),
        (
            lambda f: f,
            dict(
                method="srs",
                n={
                    "Sở Tư pháp": 2,
                    "UBND phường Bến Nghé": 2,
                    "Sở Xây dựng": 1,
                    "UBND xã Bình Chánh": 1,
                    "Sở Y tế": 3,
                },
                strata="co_quan",
            ),
            "stratum 'Sở Y tế' has a sample size but no unit in the frame",
        ),
        (
            lambda f: f.assign(co_quan=[None] + f["co_quan"].tolist()[1:]),
            dict(method="srs", n=1, strata="co_quan"),
            "strata column 'co_quan' is empty in row 1",
        ),
        (
            lambda f: f,
            dict(method="srs", n=3, size=None, strata="khong_co"),
            "no column 'khong_co'",
        ),
    ],
)
def test_bad_frames_give_precise_errors(vn_frame, edit, plan, message):
    frame = edit(vn_frame.copy())
    with pytest.raises(Exception, match=message) as info:
        draw(frame, DrawPlan.single("ma_ho_so", **plan), seed=1)
    from sampling import SamplingError

    assert isinstance(info.value, SamplingError)


def test_digest_follows_the_documented_canonical_form():
    # An independent, row-by-row reading of the canonical form in sampling/frame.py.
    import hashlib
    import struct

    frame = pd.DataFrame(
        {"tên": ["Bến Nghé", None, "Quận 1"], "x": [1.5, np.nan, -0.0], "a": ["1", "2", "3"]}
    )
    frame["tên"] = frame["tên"].astype(object)

    def col(name, values, numeric):
        missing = [v is None or (isinstance(v, float) and np.isnan(v)) for v in values]
        h = hashlib.sha256()
        kind = b"f8" if numeric else b"utf8"
        h.update(
            b"column\0" + name.encode() + b"\0" + kind + b"\0" + struct.pack("<Q", len(values))
        )
        h.update(np.packbits(np.array(missing)).tobytes())
        if numeric:
            h.update(
                b"".join(
                    struct.pack("<d", 0.0 if m or v == 0 else v)
                    for v, m in zip(values, missing, strict=True)
                )
            )
        else:
            h.update(
                "\0".join("" if m else str(v) for v, m in zip(values, missing, strict=True)).encode(
                    "utf-8"
                )
            )
        return h.digest()

    cols = {
        "tên": col("tên", list(frame["tên"]), False),
        "x": col("x", list(frame["x"]), True),
        "a": col("a", list(frame["a"]), False),
    }
    h = hashlib.sha256(b"surveyapp-frame/1\0" + struct.pack("<Q", 3))
    for name in sorted(cols):
        h.update(name.encode() + b"\0" + cols[name])
    assert frame_digest(frame).sha256 == h.hexdigest()
