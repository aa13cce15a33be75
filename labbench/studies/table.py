"""A study's results as a table — for the terminal (``labbench study show``), the README (Markdown)
and the window's live table, all from the same rows."""

from __future__ import annotations

from dataclasses import dataclass

from labbench.studies.measures import MEASURES
from labbench.studies.results import Cell
from labbench.studies.spec import Study
from labbench.studies.verdict import Verdict


@dataclass
class Table:
    head: list[str]
    rows: list[list[str]]
    cells: list[Cell]  # the cell of each row


def _value(cell: Cell, measure: str) -> str:
    mean = cell.mean(measure)
    if mean is None:
        return "diverged" if cell.diverged else "–"
    error = cell.noise(measure) if len(cell.values(measure)) >= 2 else None  # an error bar needs two seeds
    return MEASURES[measure].format(mean, error)


def _runs(cell: Cell) -> str:
    statuses = [r.status for r in cell.results]
    if "failed" in statuses:
        return "failed"
    if not statuses:
        return "pending"
    return f"{statuses.count('completed') + statuses.count('diverged')}/{cell.planned}"


def study_table(study: Study, cells: dict[tuple[int, ...], Cell]) -> Table:
    """One row per cell: its axis values, each measure, the share of the reference cell, its runs."""
    head = [axis.name for axis in study.axes] + [MEASURES[m].title for m in study.measures]
    reference = None
    if study.relative_to is not None:
        ref_cell, ref_measure = study.cell_of(study.relative_to)
        reference = (cells[ref_cell], ref_measure)
        head.append(f"% of {cells[ref_cell].label}")
    head.append("runs")
    rows, order = [], []
    for cell in cells.values():
        row = [axis.labels[i] for axis, i in zip(study.axes, cell.cell)]
        row += [_value(cell, m) for m in study.measures]
        if reference is not None:
            base, value = reference[0].mean(reference[1]), cell.mean(reference[1])
            row.append("–" if base is None or value is None or base <= 0 else f"{100 * value / base:.0f} %")
        row.append(_runs(cell))
        rows.append(row)
        order.append(cell)
    return Table(head, rows, order)


def format_text(study: Study, cells: dict[tuple[int, ...], Cell], verdict: Verdict) -> str:
    """The study as the terminal shows it: what it asks, the table, the verdict, the failures."""
    table = study_table(study, cells)
    widths = [max(len(r[i]) for r in [table.head, *table.rows]) for i in range(len(table.head))]
    n_axes = len(study.axes)

    def fmt(cells_: list[str]) -> str:  # axis columns left, figures right
        return "  ".join(c.ljust(w) if i < n_axes else c.rjust(w) for i, (c, w) in enumerate(zip(cells_, widths)))

    lines = [(f"{study.title} ({study.name}): {study.runs_count()} runs × {study.budget.describe()}, "
              f"seeds {', '.join(map(str, study.seeds))}")]
    lines += _claim_lines(study)
    if measured := measured_summary(study, cells):
        lines.append(f"measured: {measured}")
    lines += ["", fmt(table.head), "  ".join("-" * w for w in widths), *map(fmt, table.rows), ""]
    if verdict.word:
        lines.append(f"verdict: {verdict.line}")
        lines += [f"  [{c.outcome}] {c.text}" for c in verdict.checks]
    lines += [f"failed: {r.label} (seed {r.seed}): {r.message}"
              for cell in cells.values() for r in cell.results if r.status == "failed"]
    return "\n".join(lines)


def format_markdown(study: Study, cells: dict[tuple[int, ...], Cell], verdict: Verdict) -> str:
    """The study for the README: claim, lecture figure, measured table, verdict."""
    table = study_table(study, cells)
    lines = [f"**{study.title}** — {study.runs_count()} runs × {study.budget.describe()}", ""]
    lines += [f"- {line}" for line in _claim_lines(study)]
    if measured := measured_summary(study, cells):
        lines.append(f"- measured: {measured}")
    lines += ["", "| " + " | ".join(table.head) + " |",
              "|" + "|".join("---" if i < len(study.axes) else "---:" for i in range(len(table.head))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in table.rows]
    if verdict.word:
        lines += ["", f"Verdict: **{verdict.word}** — {verdict.reason}"]
    return "\n".join(lines)


def measured_summary(study: Study, cells: dict[tuple[int, ...], Cell]) -> str:
    """The measured figures of the cells the claim speaks of, to set beside the lecture's:
    ``crop + colour 44.0 %, crop alone 31.2 % (linear probe (h), 75 s per run)``; empty before any."""
    refs = [ref for e in study.expect for _, ref in e.refs()]
    named = list(dict.fromkeys(study.cell_of(ref) for ref in refs)) if refs else [(c, study.measures[0]) for c in cells]
    if all(cells[cell].mean(measure) is None for cell, measure in named):
        return ""
    measures = {measure for _, measure in named}
    parts = []
    for cell, measure in named:
        value = cells[cell].mean(measure)
        figure = "diverged" if value is None and cells[cell].diverged else MEASURES[measure].format(value)
        parts.append(f"{cells[cell].label}{'' if len(measures) == 1 else ', ' + MEASURES[measure].title} {figure}")
    what = f"{MEASURES[measures.pop()].title}, " if len(measures) == 1 else ""
    return ", ".join(parts) + f" ({what}{study.budget.describe()} per run)"


def _claim_lines(study: Study) -> list[str]:
    lines = []
    if study.claim:
        lines.append(f"claim: {study.claim}")
    if study.figure:
        lines.append(f"lecture: {study.figure}" + (f" ({study.source})" if study.source else ""))
    return lines
