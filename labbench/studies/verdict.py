"""Does the claim hold here? Each expectation compared against the noise, then one word for the study.

A difference counts only when it clears ``margin = max(min_effect, 2 · √(se_a² + se_b²))``: the
standard errors come from the seeds (two or more) or, for one seed, from the size of the test set
(the binomial error of an accuracy — a floor, since training noise comes on top). Then:

- **holds**: every expectation is met by more than the margin;
- **does not hold here**: at least one is contradicted by more than the margin;
- **too short to tell**: the rest — differences inside the noise, a failed run, no run whose k-NN
  cleared its own untrained encoder (nothing was learned, so nothing can be compared), or a side that
  should win sitting at chance (its protocol learned nothing: a contradiction would be no evidence);
- **not measured yet**: runs are still to come.

A run that diverged loses every comparison it is in (the lecture's "unstable" is a finding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from labbench.studies.measures import MEASURES
from labbench.studies.results import Cell
from labbench.studies.spec import CellRef, Expectation, Study

HOLDS, FAILS, UNCLEAR, PENDING = "holds", "does not hold here", "too short to tell", "not measured yet"
#: standard errors a difference must clear (about 95 % for a normal error)
Z = 2.0

Outcome = Literal["agrees", "contradicts", "unclear", "missing"]


@dataclass(frozen=True)
class Check:
    """One expectation against the measurements."""

    text: str
    outcome: Outcome


@dataclass(frozen=True)
class Verdict:
    """``word`` is one of the four above (None when the study states no expectation)."""

    word: str | None
    reason: str
    checks: tuple[Check, ...] = ()

    @property
    def line(self) -> str:
        return f"{self.word}: {self.reason}" if self.word else ""


@dataclass(frozen=True)
class _Side:
    cell: Cell
    measure: str
    label: str

    @property
    def value(self) -> float | None:
        return self.cell.mean(self.measure)

    def at_chance(self) -> bool:
        """An accuracy no better than always answering the most frequent class (beyond its noise)."""
        chance = self.cell.chance()
        return (MEASURES[self.measure].accuracy and chance is not None and self.value is not None
                and self.value <= chance + Z * self.cell.noise(self.measure))

    def text(self) -> str:
        if self.value is None and self.cell.diverged:
            return f"{self.label} diverged"
        return f"{self.label} {MEASURES[self.measure].format(self.value)}"


def _difference(d: float) -> str:
    return f"{100 * d:+.1f} points"


def _compare(high: _Side, low: _Side, study: Study, text: str) -> Check:
    """``high`` should beat ``low`` by more than the margin."""
    if high.value is None and high.cell.diverged:  # the side's text says it diverged
        return Check(text, "contradicts")
    if low.value is None and low.cell.diverged and high.value is not None:
        return Check(text, "agrees")
    if high.value is None or low.value is None:
        return Check(text, "missing")
    d = high.value - low.value
    margin = max(study.min_effect, Z * math.hypot(high.cell.noise(high.measure), low.cell.noise(low.measure)))
    outcome: Outcome = "agrees" if d > margin else "contradicts" if d < -margin else "unclear"
    text = f"{text}: {_difference(d)} (noise ±{_difference(margin)[1:]})"
    if high.at_chance():  # the side that should win learned nothing under this protocol: no evidence either way
        return Check(f"{text}; {high.label} is at chance ({high.cell.chance():.0%})", "unclear")
    return Check(text, outcome)


def _side(study: Study, cells: dict[tuple[int, ...], Cell], ref: CellRef) -> _Side:
    cell, measure = study.cell_of(ref)
    return _Side(cells[cell], measure, cells[cell].label)


def _on(study: Study, measure: str) -> str:
    """`` on linear probe (h)`` where the study has several measures."""
    return f" on {MEASURES[measure].title}" if len(study.measures) > 1 else ""


def _check(study: Study, cells: dict[tuple[int, ...], Cell], expectation: Expectation) -> Check:
    if expectation.best is None:
        high, low = _side(study, cells, expectation.higher), _side(study, cells, expectation.than)
        if high.measure != low.measure:  # one cell, two measures: h against z
            high = _Side(high.cell, high.measure, f"{high.label}, {MEASURES[high.measure].title}")
            low = _Side(low.cell, low.measure, f"{low.label}, {MEASURES[low.measure].title}")
            return _compare(high, low, study, f"{high.text()} vs {low.text()}")
        return _compare(high, low, study, f"{high.text()} vs {low.text()}{_on(study, high.measure)}")
    named = [_side(study, cells, ref) for ref in expectation.best]
    measure = named[0].measure
    named = [_Side(s.cell, measure, s.label) for s in named]
    rest = [_Side(c, measure, c.label) for c in cells.values() if c.cell not in {s.cell.cell for s in named}]
    if any(s.cell.pending for s in named + rest):
        return Check(f"best should be {' or '.join(s.label for s in named)}", "missing")
    best_named = max(named, key=lambda s: -math.inf if s.value is None else s.value)
    best_rest = max(rest, key=lambda s: -math.inf if s.value is None else s.value, default=None)
    if best_rest is None:
        return Check(f"{best_named.text()} is the only cell", "unclear")
    text = (f"best of {' / '.join(s.label for s in named)}: {best_named.text()}; "
            f"best of the rest: {best_rest.text()}{_on(study, measure)}")
    return _compare(best_named, best_rest, study, text)


def _nothing_learned(study: Study, cells: dict[tuple[int, ...], Cell]) -> str | None:
    """Why no comparison means anything, when no run's k-NN cleared its untrained encoder's."""
    if "knn" not in study.measures:
        return None
    gains = []
    for cell in cells.values():
        value, untrained = cell.mean("knn"), cell.untrained_knn()
        if value is not None and untrained is not None:
            gains.append((value - untrained, max(study.min_effect, Z * cell.noise("knn"))))
    if not gains or any(gain > margin for gain, margin in gains):
        return None
    best = max(g for g, _ in gains)
    return f"no run's k-NN cleared its untrained encoder's (best {_difference(best)}): nothing was learned to compare"


def judge(study: Study, cells: dict[tuple[int, ...], Cell]) -> Verdict:
    """The study's verdict from its cells' results (see the module docstring for the rule)."""
    if not study.expect:
        return Verdict(None, "")
    checks = tuple(_check(study, cells, e) for e in study.expect)
    if any(c.outcome == "missing" for c in checks):
        if any(cell.pending and not _failed(cell) for cell in cells.values()):
            done = sum(len([r for r in c.results if r.status != "failed"]) for c in cells.values())
            return Verdict(PENDING, f"{done} of {study.runs_count()} runs measured", checks)
        failed = dict.fromkeys(f"{c.label}: {r.message}" for c in cells.values() for r in c.results if r.status == "failed")
        return Verdict(UNCLEAR, "runs failed — " + "; ".join(failed), checks)
    if (why := _nothing_learned(study, cells)) is not None:
        return Verdict(UNCLEAR, why, checks)
    if against := [c for c in checks if c.outcome == "contradicts"]:
        return Verdict(FAILS, "; ".join(c.text for c in against), checks)
    if all(c.outcome == "agrees" for c in checks):
        return Verdict(HOLDS, "; ".join(c.text for c in checks), checks)
    return Verdict(UNCLEAR, "; ".join(c.text for c in checks if c.outcome == "unclear") + " — inside the noise", checks)


def _failed(cell: Cell) -> bool:
    return any(r.status == "failed" for r in cell.results)
