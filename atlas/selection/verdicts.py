"""A criterion's verdict on one plot, its score, and the bilingual wording of its reason.

Score of a verdict, from 0 to 1 (0.5 exactly at the threshold, so that a plot just inside a
limit ranks above one just outside and below one well inside):

- a measure that must stay under a limit L (slope, distances, largest area):
  ``1 - v / 2L`` when ``v <= L``, else ``L / 2v``;
- a measure that must reach a minimum M (smallest area, main diameter):
  ``1 - M / 2v`` when ``v >= M``, else ``v / 2M``;
- a yes/no criterion (vocation, use, market, heritage, flood): 1 or 0;
- an unknown measure: 0 (it fails);
- two thresholds on one criterion (area range; water diameter and distance): the lower score.

A plot's score is the mean of its verdicts' scores (1 when the search has no criterion).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Verdict:
    """One criterion on one plot: what was measured, whether it passes, why (FR and EN)."""

    criterion: str
    ok: bool
    value: Any
    reason_fr: str
    reason_en: str
    score: float

    def as_dict(self) -> dict[str, Any]:
        """The verdict as a JSON member."""
        return {
            "criterion": self.criterion,
            "ok": self.ok,
            "value": self.value,
            "score": round(self.score, 3),
            "reason_fr": self.reason_fr,
            "reason_en": self.reason_en,
        }


def verdict(
    criterion: str, ok: bool, value: Any, fr: str, en: str, score: float | None = None
) -> Verdict:
    """A verdict; a failing one's reasons start with 'exclu : ' / 'excluded: '."""
    if not ok:
        fr, en = f"exclu : {fr}", f"excluded: {en}"
    return Verdict(criterion, ok, value, fr, en, float(ok) if score is None else score)


def at_most(value: float | None, limit: float) -> float:
    """Score of a measure that must stay at or under ``limit``."""
    if value is None or math.isnan(value):
        return 0.0
    if limit <= 0:
        return 1.0 if value <= limit else 0.0
    return 1 - value / (2 * limit) if value <= limit else limit / (2 * value)


def at_least(value: float | None, minimum: float) -> float:
    """Score of a measure that must reach ``minimum``."""
    if value is None or math.isnan(value):
        return 0.0
    if minimum <= 0:
        return 1.0
    if math.isinf(value):
        return 1.0
    return 1 - minimum / (2 * value) if value >= minimum else value / (2 * minimum)


def number(value: float, digits: int | None = None) -> tuple[str, str]:
    """``value`` in French (decimal comma) and in English; ``digits`` None: as short as it is."""
    en = f"{value:g}" if digits is None else f"{value:.{digits}f}"
    return en.replace(".", ","), en


def plot_score(verdicts: list[Verdict]) -> float:
    """The mean of the verdicts' scores; 1 without criteria."""
    if not verdicts:
        return 1.0
    return sum(v.score for v in verdicts) / len(verdicts)
