"""Draw plans: which column identifies units, the stages, and the reserves.

A :class:`DrawPlan` is plain data (frozen, JSON round-trip with ``to_dict`` /
``from_dict``); it is what a draw record stores as its ``parameters``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import DesignError

__all__ = ["METHODS", "PPS_METHODS", "Stage", "DrawPlan"]

METHODS = ("srs", "systematic", "poisson", "pps-systematic", "pps-brewer", "pps-sampford")
PPS_METHODS = ("pps-systematic", "pps-brewer", "pps-sampford")


def _as_int(value: Any, what: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise DesignError(f"{what} must be a whole number, got {value!r}")
    value = int(value)
    if value < minimum:
        raise DesignError(f"{what} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class Stage:
    """One stage of a draw.

    Attributes
    ----------
    unit : str
        Column naming the units selected at this stage (the id column at the last stage of
        an element sample; a cluster column such as a ward otherwise).
    method : str
        One of :data:`METHODS`.
    n : int or mapping, optional
        First stage only: the sample size (per stratum when ``strata`` is set), or a
        mapping ``{stratum: n_h}``.
    n_per_parent : int, optional
        Later stages only: units to select within each unit selected at the stage before
        (all of them when the parent has fewer: take-all).
    size : str, optional
        Size-measure column for πps methods and PPS Poisson; it must be constant within
        each unit of the stage. The equal-probability methods (srs, systematic) ignore it.
    strata : str, optional
        First stage only: stratification column.
    sort : tuple of str
        Systematic methods: columns giving the list order within each group (implicit
        stratification); values compare as they are in the frame (text as text).
    """

    unit: str
    method: str
    n: int | Mapping[str, int] | None = None
    n_per_parent: int | None = None
    size: str | None = None
    strata: str | None = None
    sort: tuple[str, ...] = ()

    @property
    def uses_size(self) -> bool:
        """Whether the method selects proportionally to ``size``.

        srs and systematic select with equal probabilities and ignore a size column.
        """
        return self.size is not None and self.method not in ("srs", "systematic")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the STAGES.json format)."""
        out: dict[str, Any] = {"unit": self.unit, "method": self.method}
        if self.n is not None:
            out["n"] = dict(self.n) if isinstance(self.n, Mapping) else self.n
        if self.n_per_parent is not None:
            out["n_per_parent"] = self.n_per_parent
        if self.size is not None:
            out["size"] = self.size
        if self.strata is not None:
            out["strata"] = self.strata
        if self.sort:
            out["sort"] = list(self.sort)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Stage:
        """Build a stage from its dict form, refusing unknown keys."""
        if not isinstance(d, Mapping):
            raise DesignError(f"a stage must be an object with unit, method, n..., got {d!r}")
        known = {"unit", "method", "n", "n_per_parent", "size", "strata", "sort"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise DesignError(
                f"unknown key {unknown[0]!r} in a stage (allowed: {', '.join(sorted(known))})"
            )
        if "unit" not in d or "method" not in d:
            raise DesignError("every stage needs 'unit' and 'method'")
        sort = d.get("sort") or ()
        if isinstance(sort, str):
            sort = (sort,)
        n = d.get("n")
        if isinstance(n, Mapping):
            n = {str(k): v for k, v in n.items()}
        return cls(
            unit=str(d["unit"]),
            method=str(d["method"]),
            n=n,
            n_per_parent=d.get("n_per_parent"),
            size=d.get("size"),
            strata=d.get("strata"),
            sort=tuple(str(s) for s in sort),
        )


@dataclass(frozen=True)
class DrawPlan:
    """What to draw: the id column, the stages, and the reserves per last-stage group."""

    id: str
    stages: tuple[Stage, ...]
    reserve: int = 0

    @classmethod
    def single(
        cls,
        id: str,
        method: str,
        n: int | Mapping[str, int],
        *,
        strata: str | None = None,
        size: str | None = None,
        sort: Iterable[str] = (),
        reserve: int = 0,
    ) -> DrawPlan:
        """A one-stage plan selecting rows (units = the id column)."""
        return cls(
            id=id,
            stages=(
                Stage(unit=id, method=method, n=n, size=size, strata=strata, sort=tuple(sort)),
            ),
            reserve=reserve,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form stored as the record's ``parameters``."""
        return {
            "id": self.id,
            "reserve": self.reserve,
            "stages": [s.to_dict() for s in self.stages],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DrawPlan:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(d, Mapping) or "id" not in d or "stages" not in d:
            raise DesignError("a plan needs 'id' and 'stages'")
        stages = d["stages"]
        if not isinstance(stages, list) or not stages:
            raise DesignError("'stages' must be a non-empty list")
        return cls(
            id=str(d["id"]),
            stages=tuple(Stage.from_dict(s) for s in stages),
            reserve=d.get("reserve", 0),
        )

    def check(self) -> None:
        """Validate the plan's shape (not the frame). Raises :class:`DesignError`."""
        if not self.stages:
            raise DesignError("a plan needs at least one stage")
        reserve = _as_int(self.reserve, "reserve")
        units = [s.unit for s in self.stages]
        if len(set(units)) != len(units):
            raise DesignError("two stages select the same unit column")
        for i, st in enumerate(self.stages, start=1):
            where = f"stage {i}" if len(self.stages) > 1 else "the draw"
            if st.method not in METHODS:
                raise DesignError(
                    f"unknown method {st.method!r} in {where}; choose one of {', '.join(METHODS)}"
                )
            if st.method in PPS_METHODS and st.size is None:
                raise DesignError(f"method {st.method} in {where} needs a size column")
            if st.sort and st.method not in ("systematic", "pps-systematic"):
                raise DesignError(
                    f"a sort order applies to systematic methods only, not {st.method}"
                )
            if i == 1:
                if st.n_per_parent is not None:
                    raise DesignError("the first stage takes n, not n_per_parent")
                if st.n is None:
                    raise DesignError(f"{where} needs a sample size n")
                if isinstance(st.n, Mapping):
                    if st.strata is None:
                        raise DesignError("sample sizes per stratum need a strata column")
                    for k, v in st.n.items():
                        _as_int(v, f"n of stratum {k!r}")
                else:
                    _as_int(st.n, "n")
            else:
                if st.n is not None or st.strata is not None:
                    raise DesignError(f"stage {i} takes n_per_parent (not n or strata)")
                if st.n_per_parent is None:
                    raise DesignError(f"stage {i} needs n_per_parent")
                _as_int(st.n_per_parent, f"n_per_parent of stage {i}")
        if reserve and self.stages[-1].method == "poisson":
            raise DesignError(
                "reserves need a fixed-size method; poisson sampling has a random size"
            )
