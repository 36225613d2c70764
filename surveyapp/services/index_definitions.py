"""The built-in index schemes for the standard questionnaire, built from its metadata.

Each scheme turns a questionnaire definition into an :class:`analysis.indices.IndexDefinition`
whose items are the question names; the answers it expects are those of the analysis extract
(:func:`surveyapp.services.exports.build_extract`): Likert answers as their codes 1–5, a
single choice as the extract's number of the choice, ``na``/``dk`` as such.

* ``sipas``: per SIPAS factor (tiep_can, thu_tuc_hanh_chinh, cong_chuc, ket_qua, gop_y) the
  Likert items tagged ``sipas_factor`` (statements and satisfaction), each the share
  answering 4 or 5; factors average their items, the overall index averages the factors.
* ``tt01``: Circular 01/2018/TT-VPCP Art. 13–15: the indicators tagged ``tt01_indicator``
  whose choices carry ``tt01_points`` (1, 3, 4), and indicator 7 from its calculated points
  field; the total is the sum of the indicators measured.
* ``papi``: the same SIPAS Likert items rescaled over their range 1–5 and summed per factor
  (each factor 1–10), the overall index the sum of the factors.

User-defined index trees stored as data are ``services.custom_indices``; the band tables the
top nodes are graded with are data too (``services.band_tables``), never constants here.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from analysis.indices import IndexDefinition, circular01_index, papi_index, sipas_index

from ..questionnaires import Questionnaire as Definition
from .exports import _choice_codes

SIPAS_FACTORS = ("tiep_can", "thu_tuc_hanh_chinh", "cong_chuc", "ket_qua", "gop_y")
SIPAS_CONTENT = ("nhan_dinh", "hai_long")


@dataclass(frozen=True)
class Scheme:
    key: str
    label: object
    method_version: str


SCHEMES = {
    "sipas": Scheme("sipas", _l("SIPAS satisfaction index (share satisfied)"),
                    "sipas-top2/v1"),
    "tt01": Scheme("tt01", _l("Circular 01/2018 points"), "tt01-2018-art15/v1"),
    "papi": Scheme("papi", _l("PAPI-style index (items rescaled, summed)"),
                   "papi-fixed-range/v1"),
}

NODE_LABELS = {
    "tiep_can": _l("Access to the service"),
    "thu_tuc_hanh_chinh": _l("Administrative procedures"),
    "cong_chuc": _l("Civil servants"),
    "ket_qua": _l("Results"),
    "gop_y": _l("Feedback and complaints"),
    "total": _l("Circular 01 total points"),
    "SIPAS": _l("Overall index"),
    "PAPI": _l("Overall index"),
}


def sipas_items(definition: Definition) -> dict[str, list[str]]:
    """{factor: [Likert question names]} in the questionnaire's order (empty factors left out)."""
    out: dict[str, list[str]] = {f: [] for f in SIPAS_FACTORS}
    for q in definition.questions():
        meta = q.metadata or {}
        factor = meta.get("sipas_factor")
        if q.type == "likert" and factor in out and meta.get("content") in SIPAS_CONTENT:
            out[factor].append(q.name)
    return {f: names for f, names in out.items() if names}


def tt01_points(definition: Definition) -> dict[str, dict[str, float]]:
    """{question name: {extract value: points}} of the Circular 01 indicators, by indicator."""
    found: list[tuple[int, str, dict[str, float]]] = []
    covered: set[int] = set()
    for q in definition.questions():
        meta = q.metadata or {}
        indicator = meta.get("tt01_indicator")
        if indicator is None or q.type != "select_one":
            continue
        choices = definition.choice_list(q.list_name)
        if choices is None or not all("tt01_points" in (c.metadata or {})
                                      for c in choices.choices):
            continue
        numbers = _choice_codes(choices)
        found.append((int(indicator), q.name, {str(numbers[c.code]): float(
            c.metadata["tt01_points"]) for c in choices.choices}))
        covered.add(int(indicator))
    for q in definition.questions():  # indicators only a calculated field scores (7)
        meta = q.metadata or {}
        indicator = meta.get("tt01_indicator")
        if q.type == "calculate" and indicator is not None and int(indicator) not in covered \
                and "max_points" in meta:
            top = int(meta["max_points"])
            found.append((int(indicator), q.name, {str(p): float(p) for p in range(top + 1)}))
            covered.add(int(indicator))
    return {name: m for _i, name, m in sorted(found, key=lambda t: t[0])}


def build_definition(key: str, definition: Definition) -> IndexDefinition | None:
    """The scheme ``key`` for this questionnaire, or ``None`` when it has none of its items."""
    if key in ("sipas", "papi"):
        factors = sipas_items(definition)
        if not factors:
            return None
        if key == "sipas":
            return sipas_index(factors, method_version=SCHEMES[key].method_version)
        return papi_index({f: {n: (1.0, 5.0) for n in names} for f, names in factors.items()},
                          method_version=SCHEMES[key].method_version)
    if key == "tt01":
        indicators = tt01_points(definition)
        if not indicators:
            return None
        return circular01_index(indicators, method_version=SCHEMES[key].method_version)
    return None
