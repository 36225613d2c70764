"""The sampling library's error messages (English, for the CLI) in the user's language.

Each pattern matches one message the library raises on purpose (sampling/io.py,
sampling/frame.py, sampling/draw.py, sampling/allocation.py) and gives a precise
translated message with the same facts (column, row, value, counts). A message no
pattern knows is still shown, after a translated lead-in, never swallowed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import gettext as _

Q = r"['\"](.*?)['\"]"  # a value as the library writes it (Python repr of a str)


def _line(row: str) -> dict:
    return {"row": row, "line": int(row) + 1}


PATTERNS: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [
    (re.compile(r"not UTF-8 text"),
     lambda m: _("The file is not UTF-8 text. In Excel save it as “CSV UTF-8 (comma "
                 "delimited)”, or upload the .xlsx workbook itself.")),
    (re.compile(r"the (?:file|sheet) is empty|the frame has no rows"),
     lambda m: _("The file has no data rows.")),
    (re.compile(r"column (\d+) of the header row has no name"),
     lambda m: _("Column %(n)s of the first row has no name: every column needs a heading.",
                 n=m.group(1))),
    (re.compile(r"two columns are named " + Q),
     lambda m: _("Two columns are named “%(name)s”: column headings must be distinct.",
                 name=m.group(1))),
    (re.compile(r"not a valid CSV file"),
     lambda m: _("The file is not a valid CSV file (check the quotes and separators).")),
    (re.compile(r"not a readable XLSX workbook"),
     lambda m: _("The file is not a readable XLSX workbook.")),
    (re.compile(r"row (\d+) has values beyond the last named column"),
     lambda m: _("Line %(line)s has values beyond the last named column.", line=m.group(1))),
    (re.compile(r"frames must be \.csv or \.xlsx files"),
     lambda m: _("Upload a .csv (UTF-8) or .xlsx file.")),
    (re.compile(r"id column " + Q + r" is empty in row (\d+) \((\d+) rows? without id\)"),
     lambda m: _("The ID column “%(column)s” is empty in data row %(row)s (line %(line)s of "
                 "the file); %(count)s rows have no ID.", column=m.group(1),
                 count=m.group(3), **_line(m.group(2)))),
    (re.compile(r"duplicate id " + Q + r" in id column " + Q + r" \(rows ([\d, ]+)\); (\d+) ids?"),
     lambda m: _("Duplicate ID “%(value)s” in the ID column “%(column)s” (data rows %(rows)s); "
                 "%(count)s IDs occur more than once. Every unit must have its own ID.",
                 value=m.group(1), column=m.group(2), rows=m.group(3), count=m.group(4))),
    (re.compile(r"size column " + Q + r" is missing in row (\d+)[^(]*\((\d+) rows? without"),
     lambda m: _("The size measure “%(column)s” is missing in data row %(row)s (line %(line)s "
                 "of the file); %(count)s rows have no size.", column=m.group(1),
                 count=m.group(3), **_line(m.group(2)))),
    (re.compile(r"size column " + Q + r" is not a number in row (\d+)[^:]*: (.*)$"),
     lambda m: _("The size measure “%(column)s” is not a number in data row %(row)s (line "
                 "%(line)s of the file): %(value)s. Write numbers such as 1234 or 1234.5, "
                 "without thousands separators.", column=m.group(1), value=m.group(3),
                 **_line(m.group(2)))),
    (re.compile(r"size column " + Q
                + r" must be positive; it is (.*?) in row (\d+).*\((\d+) rows?"),
     lambda m: _("The size measure “%(column)s” must be greater than zero; it is %(value)s in "
                 "data row %(row)s (line %(line)s of the file); %(count)s rows have a size of "
                 "zero or less.", column=m.group(1), value=m.group(2), count=m.group(4),
                 **_line(m.group(3)))),
    (re.compile(r"size column " + Q + r" differs within unit " + Q + r" of column " + Q
                + r" \(row (\d+)\)"),
     lambda m: _("The size measure “%(column)s” differs within unit “%(unit)s” of column "
                 "“%(unit_column)s” (data row %(row)s): it must be the same on every row of a "
                 "unit.", column=m.group(1), unit=m.group(2), unit_column=m.group(3),
                 row=m.group(4))),
    (re.compile(r"unit " + Q + r" of column " + Q + r" lies in more than one (.*) \(row (\d+)\)"),
     lambda m: _("Unit “%(unit)s” of column “%(column)s” lies in more than one stratum or "
                 "first-stage unit (data row %(row)s).", unit=m.group(1), column=m.group(2),
                 row=m.group(4))),
    (re.compile(r"(?:strata|stratum|unit) column " + Q + r" is empty in row (\d+)"),
     lambda m: _("The column “%(column)s” is empty in data row %(row)s (line %(line)s of the "
                 "file).", column=m.group(1), **_line(m.group(2)))),
    (re.compile(r"n \+ reserve = (\d+) is larger than the (\d+) units in stratum " + Q),
     lambda m: _("The sample plus its reserves (%(n)s) is more than the %(N)s units of stratum "
                 "“%(stratum)s”: ask for fewer reserves or a smaller sample.", n=m.group(1),
                 N=m.group(2), stratum=m.group(3))),
    (re.compile(r"n \+ reserve = (\d+) is larger than the (\d+) units"),
     lambda m: _("The sample plus its reserves (%(n)s) is more than the %(N)s units of the "
                 "frame: ask for fewer reserves or a smaller sample.", n=m.group(1),
                 N=m.group(2))),
    (re.compile(r"n = (\d+) is larger than the (\d+) units in stratum " + Q),
     lambda m: _("The sample size %(n)s is larger than the %(N)s units of stratum "
                 "“%(stratum)s”.", n=m.group(1), N=m.group(2), stratum=m.group(3))),
    (re.compile(r"n = (\d+) is larger than the (?:frame \()?(\d+) units"),
     lambda m: _("The sample size %(n)s is larger than the frame (%(N)s units).",
                 n=m.group(1), N=m.group(2))),
    (re.compile(r"the minimum per stratum needs (\d+) units, more than n = (\d+)"),
     lambda m: _("The minimum per stratum needs %(need)s units in all, more than the sample "
                 "size %(n)s.", need=m.group(1), n=m.group(2))),
    (re.compile(r"maximum per stratum \((\d+)\) is below the minimum \((\d+)\)"),
     lambda m: _("The maximum per stratum (%(max)s) is below the minimum (%(min)s).",
                 max=m.group(1), min=m.group(2))),
    (re.compile(r"power exponent must lie in \[0, 1\]"),
     lambda m: _("The power-allocation exponent must lie between 0 and 1.")),
    (re.compile(r"are certain to be selected"),
     lambda m: _("So many units are certain to be selected (very large size measures) that "
                 "no random units are left to be replaced: ask for fewer reserves.")),
    (re.compile(r"sort column " + Q + r" has an empty value"),
     lambda m: _("The sort column “%(column)s” has an empty value.", column=m.group(1))),
    (re.compile(r"contains a NUL character"),
     lambda m: _("The file contains a NUL character; it is not a text table.")),
]


def translate(message: str) -> str:
    """The translated message for one of the library's error messages."""
    for pattern, build in PATTERNS:
        match = pattern.search(message)
        if match:
            return build(match)
    return _("The sampling library refused the frame or the design: %(detail)s",
             detail=message)


def translate_differences(differences: list[str] | tuple[str, ...]) -> list[str]:
    """``verify``'s differences, each led by a translated summary of its kind."""
    out = []
    for text in differences:
        if text.startswith("frame"):
            out.append(_("The frame differs from the one recorded (%(detail)s).", detail=text))
        elif text.startswith("parameters"):
            out.append(_("The design parameters differ from those recorded (%(detail)s).",
                         detail=text))
        elif "version differs" in text:
            out.append(_("A different library version is running (%(detail)s).", detail=text))
        else:
            out.append(_("The sample differs (%(detail)s).", detail=text))
    return out
