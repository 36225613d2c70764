"""User-defined index trees stored as data (issue 9): create, version, build for ``analysis``.

An organisation defines an index from a campaign's frozen questionnaire: it chooses items
among the scale questions (Likert scales and 0–10 ratings, whose theoretical range is fixed),
groups them into dimensions, and gives item and dimension weights. Each item is scored either
as its mean rescaled to 0–100 over the question's fixed range (``analysis.indices.mean_0_100``)
or as the share, in per cent, choosing its top categories (``analysis.indices.points`` with
100 points for a top category, 0 for the others), so every node of the tree is on 0–100. A
dimension is the weighted mean of its items, the overall index the weighted mean of the
dimensions.

Saving stores the next ``custom_index_version`` (never changing an earlier one). The tree:

    {"format": 1, "dimensions": [{"id": "dim#1", "label": "…", "weight": 1.0, "items": [
        {"question": "…", "label": "…", "weight": 1.0, "scoring": "mean" | "top",
         "top": k, "lo": 1.0, "hi": 5.0, "codes": ["1", …, "5"]}, …]}, …]}

``codes`` are the answers as the analysis extract holds them (lowest first); ``top`` the number
of highest codes counted as "top".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..errors import ValidationFailed
from ..extensions import db
from ..models import Campaign, QuestionnaireVersion, ScorecardRun
from ..models.codes import AuditAction
from ..models.index_definitions import CustomIndex, CustomIndexVersion
from ..questionnaires import Questionnaire as Definition
from ..questionnaires.model import RATING_RANGE
from . import audit
from .exports import _choice_codes

FORMAT = 1
SCALE_TYPES = ("likert", "rating")
OVERALL = "index#"
NAME_MAX = 120
LABEL_MAX = 60
MIN_SLOTS = 4


class CustomIndexInvalid(ValidationFailed):
    """A custom index that cannot be stored or used (the message says why); nothing stored."""


@dataclass(frozen=True)
class ScaleQuestion:
    """A question with a fixed theoretical range: its extract codes, lowest first."""

    name: str
    label: str
    type: str
    codes: tuple[str, ...]

    @property
    def lo(self) -> float:
        return float(self.codes[0])

    @property
    def hi(self) -> float:
        return float(self.codes[-1])

    def scoring_choices(self) -> list[tuple[str, str]]:
        """("mean" | "top:k", label) — the ways this item may be scored."""
        out = [("mean", _("Mean score, rescaled to 0–100"))]
        for k in range(1, len(self.codes)):
            top = ", ".join(self.codes[-k:][::-1])
            out.append((f"top:{k}", _("Share choosing the top %(k)d (%(codes)s), in per cent",
                                      k=k, codes=top)))
        return out


def _label(text: dict, fallback: str) -> str:
    return (text or {}).get("vi") or (text or {}).get("en") or fallback


def scale_questions(definition: Definition) -> list[ScaleQuestion]:
    """The questionnaire's scale questions in document order."""
    out = []
    for q in definition.questions():
        if q.type == "likert":
            numbers = sorted(_choice_codes(definition.choice_list(q.list_name)).values())
            if len(numbers) < 2:
                continue
            codes = tuple(str(n) for n in numbers)
        elif q.type == "rating":
            codes = tuple(str(n) for n in range(RATING_RANGE[0], RATING_RANGE[1] + 1))
        else:
            continue
        out.append(ScaleQuestion(q.name, _label(q.label, q.name), q.type, codes))
    return out


def frozen_questionnaire(campaign: Campaign) -> tuple[QuestionnaireVersion, Definition] | None:
    """The campaign's frozen questionnaire version and its definition (None before fieldwork)."""
    if campaign.questionnaire_version_id is None:
        return None
    qv = db.session.get(QuestionnaireVersion, campaign.questionnaire_version_id)
    return (qv, Definition.from_dict(qv.document)) if qv is not None else None


# ---- reading -----------------------------------------------------------------------------------

def list_indices(organisation_id: int) -> list[CustomIndex]:
    """The organisation's custom indices, newest first."""
    return list(db.session.scalars(select(CustomIndex)
                                   .where(CustomIndex.organisation_id == organisation_id)
                                   .order_by(CustomIndex.id.desc())))


def index_rows(organisation_id: int) -> list[dict]:
    """The list page: each index with its latest version and its numbers of nodes."""
    out = []
    for index in list_indices(organisation_id):
        v = index.latest
        dims = v.tree["dimensions"] if v is not None else []
        out.append({"index": index, "version": v, "dimensions": len(dims),
                    "items": sum(len(d["items"]) for d in dims)})
    return out


def get_index_of(organisation_id: int, index_id: int) -> CustomIndex | None:
    index = db.session.get(CustomIndex, index_id)
    return index if index is not None and index.organisation_id == organisation_id else None


def get_version_of(organisation_id: int, version_id: int) -> CustomIndexVersion | None:
    version = db.session.get(CustomIndexVersion, version_id)
    if version is None or version.index.organisation_id != organisation_id:
        return None
    return version


def editor_questions(campaign: Campaign) -> list[ScaleQuestion] | None:
    """The scale questions the editor offers (None: the campaign has no frozen questionnaire)."""
    frozen = frozen_questionnaire(campaign)
    return None if frozen is None else scale_questions(frozen[1])


def scoring_label(item: dict) -> str:
    """How a stored item is scored, in words (the editor's wording)."""
    q = ScaleQuestion(item["question"], item["label"], "", tuple(item["codes"]))
    key = "mean" if item["scoring"] == "mean" else f"top:{item['top']}"
    return dict(q.scoring_choices()).get(key, key)


def versions_page(index: CustomIndex) -> list[dict]:
    """Every version, newest first: its tree with each item's scoring in words, and the
    scorecard runs that used it (newest first)."""
    ids = [v.id for v in index.versions]
    runs: dict[int, list] = {i: [] for i in ids}
    if ids:
        for run in db.session.scalars(select(ScorecardRun)
                                      .where(ScorecardRun.custom_index_version_id.in_(ids))
                                      .order_by(ScorecardRun.id.desc())):
            runs[run.custom_index_version_id].append(run)
    return [{"version": v, "runs": runs[v.id], "dimensions": [
        {**dim, "items": [{**it, "scoring_label": scoring_label(it)} for it in dim["items"]]}
        for dim in v.tree["dimensions"]]} for v in reversed(index.versions)]


def node_labels(version: CustomIndexVersion) -> dict[str, str]:
    """{node: label} of a version's tree (the overall index is the version's name)."""
    labels = {OVERALL: version.name}
    for dim in version.tree.get("dimensions", []):
        labels[dim["id"]] = dim["label"]
        for item in dim["items"]:
            labels[item["question"]] = item["label"]
    return labels


# ---- building for analysis ---------------------------------------------------------------------

def build_definition(version: CustomIndexVersion, definition: Definition):
    """The ``analysis.indices.IndexDefinition`` of ``version`` for a campaign's questionnaire.

    Every item must still be a scale question with the same codes there (the same fixed
    range); otherwise :class:`CustomIndexInvalid` names the first one that is not.
    """
    from analysis.indices import Dimension, IndexDefinition, Item, mean_0_100, points

    scale = {q.name: q for q in scale_questions(definition)}
    dims = []
    for dim in version.tree["dimensions"]:
        items = []
        for it in dim["items"]:
            q = scale.get(it["question"])
            if q is None or list(q.codes) != list(it["codes"]):
                raise CustomIndexInvalid(_(
                    "\"%(question)s\" of the index is not a scale question with the same "
                    "range in this campaign's questionnaire.", question=it["question"]))
            if it["scoring"] == "mean":
                rule = mean_0_100(it["lo"], it["hi"])
            else:
                top = set(it["codes"][-int(it["top"]):])
                rule = points({c: 100.0 if c in top else 0.0 for c in it["codes"]})
            items.append(Item(it["question"], rule, weight=float(it["weight"]),
                              label=it["label"]))
        dims.append(Dimension(dim["id"], tuple(items), "weighted", weight=float(dim["weight"]),
                              label=dim["label"]))
    return IndexDefinition(OVERALL, version.method_version, tuple(dims), "weighted")


# ---- the editor --------------------------------------------------------------------------------

@dataclass(frozen=True)
class DimensionInput:
    label: str
    weight: str


@dataclass(frozen=True)
class ItemInput:
    question: str
    dimension: str  # "" (not in the index) or the dimension's number, 1, 2, …
    weight: str
    scoring: str  # "mean" | "top:k"


def _weight(text) -> float | None:
    try:
        value = float(str(text).strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def _g(value: float) -> str:
    return f"{value:g}"


def editor_values(campaign: Campaign, index: CustomIndex | None) -> dict:
    """The editor's starting values: the latest version's tree laid over the campaign's
    scale questions (each question once, in the questionnaire's order)."""
    frozen = frozen_questionnaire(campaign)
    questions = scale_questions(frozen[1]) if frozen else []
    version = index.latest if index is not None else None
    dims: list[dict] = []
    placed: dict[str, tuple[int, dict]] = {}
    if version is not None:
        for k, dim in enumerate(version.tree["dimensions"], start=1):
            dims.append({"label": dim["label"], "weight": _g(dim["weight"])})
            for it in dim["items"]:
                placed[it["question"]] = (k, it)
    slots = max(MIN_SLOTS, len(dims) + 2)  # two empty dimensions to add beyond the saved ones
    while len(dims) < slots:
        dims.append({"label": "", "weight": "1"})
    items = []
    for q in questions:
        k, it = placed.get(q.name, (None, None))
        scoring = "mean" if it is None or it["scoring"] == "mean" else f"top:{it['top']}"
        items.append({"question": q.name, "dimension": "" if k is None else str(k),
                      "weight": "1" if it is None else _g(it["weight"]), "scoring": scoring})
    return {"name": version.name if version is not None else "", "dimensions": dims,
            "items": items}


def _tree(name: str, dimensions: list[DimensionInput], items: list[ItemInput],
          questions: list[ScaleQuestion], organisation_id: int,
          index: CustomIndex | None) -> dict:
    """The validated tree, or :class:`CustomIndexInvalid` with every problem by field."""
    fields: dict[str, str] = {}
    scale = {q.name: q for q in questions}
    if not name:
        fields["name"] = _("Enter the name of the index.")
    elif len(name) > NAME_MAX:
        fields["name"] = _("A name has at most %(max)d characters.", max=NAME_MAX)
    else:
        for other in list_indices(organisation_id):
            if other is not index and other.latest is not None and other.latest.name == name:
                fields["name"] = _("The organisation already has an index with this name.")
    members: dict[int, list[dict]] = {}
    seen: set[str] = set()
    for i, it in enumerate(items):
        if not it.dimension:
            continue
        q = scale.get(it.question)
        if q is None:
            fields[f"items-{i}-question"] = _(
                "\"%(question)s\" is not a scale question (Likert scale or 0–10 rating) of "
                "the campaign's questionnaire.", question=it.question)
            continue
        if it.question in seen:
            fields[f"items-{i}-question"] = _("\"%(question)s\" is chosen twice.",
                                              question=q.label)
            continue
        seen.add(it.question)
        try:
            slot = int(it.dimension)
        except ValueError:
            slot = 0
        if not 1 <= slot <= len(dimensions):
            fields[f"items-{i}-dimension"] = _("Choose one of the dimensions for \"%(question)s"
                                               "\".", question=q.label)
            continue
        weight = _weight(it.weight)
        if weight is None:
            fields[f"items-{i}-weight"] = _("The weight of \"%(question)s\" must be a positive "
                                            "number.", question=q.label)
        choices = dict(q.scoring_choices())
        if it.scoring not in choices:
            fields[f"items-{i}-scoring"] = _("Choose how \"%(question)s\" is scored.",
                                             question=q.label)
        entry = {"question": q.name, "label": q.label[:255], "weight": weight or 0.0,
                 "scoring": "mean" if it.scoring == "mean" else "top",
                 "lo": q.lo, "hi": q.hi, "codes": list(q.codes)}
        if it.scoring.startswith("top:") and it.scoring in choices:
            entry["top"] = int(it.scoring.split(":", 1)[1])
        members.setdefault(slot, []).append(entry)
    dims = []
    labels: set[str] = set()
    for k, dim in enumerate(dimensions, start=1):
        label = (dim.label or "").strip()
        chosen = members.get(k, [])
        if not label and not chosen:
            continue  # an empty slot
        key = f"dimensions-{k - 1}-label"
        if not label:
            fields[key] = _("Dimension %(number)d has items but no name.", number=k)
        elif len(label) > LABEL_MAX:
            fields[key] = _("A dimension's name has at most %(max)d characters.", max=LABEL_MAX)
        elif label in labels:
            fields[key] = _("Two dimensions are named \"%(name)s\".", name=label)
        elif not chosen:
            fields[key] = _("The dimension \"%(name)s\" has no item: choose at least one "
                            "question for it, or clear its name.", name=label)
        labels.add(label)
        weight = _weight(dim.weight)
        if weight is None:
            fields[f"dimensions-{k - 1}-weight"] = _(
                "The weight of dimension %(number)d must be a positive number.", number=k)
        dims.append({"id": f"dim#{k}", "label": label, "weight": weight or 0.0,
                     "items": chosen})
    if not dims and not fields:
        fields["dimensions"] = _("The index needs at least one dimension with items.")
    if fields:
        raise CustomIndexInvalid(_("The index was not saved: correct the fields marked."),
                                 errors=list(fields.values()), fields=fields)
    # dimension ids follow their order in the tree, whatever slots they were typed in
    for k, dim in enumerate(dims, start=1):
        dim["id"] = f"dim#{k}"
    return {"format": FORMAT, "dimensions": dims}


def save_version(actor, campaign: Campaign, index: CustomIndex | None, name: str,
                 dimensions: list[DimensionInput], items: list[ItemInput]
                 ) -> tuple[CustomIndexVersion, bool]:
    """Store the next version of ``index`` (a new index when ``None``) from the campaign's
    frozen questionnaire; commits once. Returns (version, created): an edit that changes
    nothing keeps the latest version. Refuses a bad tree in Vietnamese, storing nothing."""
    frozen = frozen_questionnaire(campaign)
    if frozen is None:
        raise CustomIndexInvalid(_("This campaign has no frozen questionnaire version: an "
                                   "index is built from the questionnaire in use."))
    qv, definition = frozen
    name = (name or "").strip()
    tree = _tree(name, dimensions, items, scale_questions(definition),
                 campaign.organisation_id, index)
    latest = index.latest if index is not None else None
    if latest is not None and latest.name == name and latest.tree == tree:
        return latest, False
    if index is None:
        index = CustomIndex(organisation_id=campaign.organisation_id,
                            created_by_id=getattr(actor, "id", None))
        db.session.add(index)
        db.session.flush()
    number = (db.session.scalar(select(func.max(CustomIndexVersion.number))
                                .where(CustomIndexVersion.index_id == index.id)) or 0) + 1
    version = CustomIndexVersion(index_id=index.id, number=number, name=name, tree=tree,
                                 questionnaire_version_id=qv.id,
                                 created_by_id=getattr(actor, "id", None))
    db.session.add(version)
    db.session.flush()
    audit.record(actor, AuditAction.CREATE, version, organisation_id=campaign.organisation_id,
                 after={"index": index.id, "number": number, "name": name, "tree": tree},
                 summary=f"custom index {index.id} version {number}")
    db.session.commit()
    db.session.refresh(index)
    return version, True
