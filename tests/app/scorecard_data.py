"""Data for the scorecard tests, read without the scorecard service (its frame builder and
index builders are what the tests check), and small helpers shared by those tests."""

from __future__ import annotations

import re
from contextlib import contextmanager

import numpy as np
import sqlalchemy as sa

from analysis import SurveyDesign
from surveyapp.extensions import db
from surveyapp.models import Campaign, Organisation
from surveyapp.services import demo, weighting


# The SIPAS factors of the standard questionnaire and their Likert items, written out (the
# service builds them from the template's metadata).
SIPAS_FACTORS = {
    "tiep_can": ["tc_nd_cho_ngoi", "tc_nd_trang_thiet_bi", "tc_nd_hien_dai", "tc_nd_cong_dvc",
                 "tc_hai_long"],
    "thu_tuc_hanh_chinh": ["tthc_nd_niem_yet", "tthc_nd_chinh_xac", "tthc_nd_thanh_phan",
                           "tthc_nd_phi", "tthc_nd_thoi_han", "tthc_hai_long"],
    "cong_chuc": ["cc_nd_lich_su", "cc_nd_lang_nghe", "cc_nd_giai_thich", "cc_nd_huong_dan",
                  "cc_nd_tuan_thu", "cc_hai_long"],
    "ket_qua": ["kq_nd_dung_quy_dinh", "kq_nd_chinh_xac", "kq_hai_long"],
    "gop_y": ["gy_nd_bo_tri", "gy_nd_de_dang", "gy_nd_tich_cuc", "gy_nd_thong_bao",
              "gy_hai_long"],
}


def demo_campaign():
    """The demo campaign (``demo.load_demo()`` has run) and its first weighting run."""
    org = db.session.scalar(sa.select(Organisation).where(Organisation.name == demo.CITY_FRONT))
    campaign = db.session.scalar(sa.select(Campaign).where(
        Campaign.title == demo.CAMPAIGN_TITLE, Campaign.organisation_id == org.id))
    return campaign, weighting.list_runs(campaign)[-1]


def interview_data(campaign, weight_run, names, calculated=()):
    """(data, design) from the approved interviews' answers read directly: each question of
    ``names`` (``calculated``: from the calculated fields), the agency, the cases' strata and
    PSUs and the run's final weights, by interview id."""
    from surveyapp.services.interviews import approved_interviews

    w = weighting.analysis_weights(weight_run)
    versions = sorted((v for v in approved_interviews(campaign) if v.interview_id in w),
                      key=lambda v: v.interview_id)
    cols: dict[str, list] = {"agency": [], "stratum": [], "psu": [], "weight": []}
    for n in [*names, *calculated]:
        cols[n] = []
    for v in versions:
        case = v.interview.assignment.case
        cols["agency"].append(v.answers["co_quan"])
        cols["stratum"].append(case.stratum)
        cols["psu"].append(case.psu or f"id{v.interview_id}")
        cols["weight"].append(w[v.interview_id])
        for n in names:
            cols[n].append(v.answers.get(n))
        for n in calculated:
            cols[n].append((v.calculated or {}).get(n))
    data = {k: np.array(x, dtype=float if k == "weight" else object) for k, x in cols.items()}
    return data, SurveyDesign.create(data=data, ids="psu", strata="stratum", weights="weight",
                                     nest=True)


def extract_data(campaign, weight_run, names):
    """(data, design) from the campaign's analysis extract (``exports.build_extract``, what a
    statistician downloads): each question of ``names``, the agency, strata, PSUs and the run's
    final weights of the run's respondents, in the extract's order."""
    from surveyapp.services.exports import build_extract

    extract = build_extract(campaign)
    column = {v.source: v.name for v in extract.variables}
    w = weighting.analysis_weights(weight_run)
    ids = extract.columns["resp_id"]
    keep = [i for i, rid in enumerate(ids) if rid in w]

    def values(name):
        col = extract.columns[column[name]]
        return [col[i] for i in keep]

    data = {n: np.array(values(n), dtype=object) for n in names}
    data["agency"] = np.array([str(a) for a in values("co_quan")], dtype=object)
    data["stratum"] = np.array([str(extract.columns["stratum"][i]) for i in keep], dtype=object)
    data["psu"] = np.array([extract.columns["psu"][i] or f"id{ids[i]}" for i in keep],
                           dtype=object)
    data["weight"] = np.array([w[ids[i]] for i in keep], dtype=float)
    return data, SurveyDesign.create(data=data, ids="psu", strata="stratum", weights="weight",
                                     nest=True)


def holm(p):
    """Holm's step-down adjusted p-values, written out (Holm 1979)."""
    p = list(p)
    order = sorted(range(len(p)), key=lambda i: p[i])
    out = [0.0] * len(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        out[i] = running
    return out


def run_page_html(client, auth, weight_run, options) -> tuple:
    """Compute and commit a scorecard run, sign in as the demo analyst and read its page:
    (run, html)."""
    from surveyapp.services import scorecards

    run = scorecards.compute_scorecard(None, weight_run, options)
    db.session.commit()
    auth.login("phantich", "demo-analyst-2024")
    url = f"/campaigns/{weight_run.campaign_id}/scorecards/{run.id}"
    return run, client.get(url).get_data(as_text=True)


@contextmanager
def csrf_on(app):
    """CSRF protection on for a block (after signing in: the login form has no token here)."""
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def csrf_token(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def vi_number(value: float, decimals: int = 3) -> str:
    """A number as the pages print it in Vietnamese (1.234,567)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
