"""The coverage of an exploration (`drills.explore.coverage`) for a person: a few lines of figures,
what was never drawn (grouped: a kind never drawn is one line, not one per cell), a compact table
for the console (kind x target by hold, a count per order) and a full one for report.md."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from drills.explore.coverage import ALONE, IN_SEQUENCE, OVERLAPPING, CellCount, Coverage, HoldBucket

if TYPE_CHECKING:
    from rich.table import Table

_SHORT = {ALONE: "alone", IN_SEQUENCE: "seq", OVERLAPPING: "overlap"}


def figures(coverage: Coverage) -> str:
    """The fractions tried, in one line."""
    tried, total = coverage.holds_tried()
    orders = " / ".join(coverage.orders)
    steps = f"{coverage.steps_in_space:,}" if coverage.refused_counted else f"at most {coverage.steps_in_space:,}"
    line = (f"coverage of {coverage.schedules} schedule(s): {tried} of {total} kind x target x hold cells tried "
            f"({len(coverage.tried)} of {len(coverage.cells)} by order: {orders}); "
            f"{coverage.steps_tried:,} of {steps} different single steps")
    return line + (f"; {coverage.outside} step(s) outside this space (kept from an earlier version of the file)"
                   if coverage.outside else "")


def never_drawn(coverage: Coverage) -> list[str]:
    """What no schedule drew: kinds, targets and hold buckets never drawn in any order, then the
    orders no step ran in. [] when every cell was drawn."""
    by_kind: dict[str, dict[str, dict[HoldBucket, int]]] = {}
    for c in coverage.cells:
        holds = by_kind.setdefault(c.cell.kind, {}).setdefault(c.cell.target, {})
        holds[c.cell.hold] = holds.get(c.cell.hold, 0) + c.steps
    parts: list[str] = []
    for kind, targets in by_kind.items():
        if not any(n for holds in targets.values() for n in holds.values()):
            parts.append(f"{kind} (every target and hold)")
            continue
        for target, holds in targets.items():
            missing = [bucket.label for bucket, n in holds.items() if not n]
            if len(missing) == len(holds):
                parts.append(f"{kind} {target} (every hold)")
            elif missing:
                parts.append(f"{kind} {target} {', '.join(missing)}")
    lines = [f"never drawn: {'; '.join(parts)}"] if parts else []
    unused = [order for order in coverage.orders if not any(c.steps for c in coverage.cells if c.cell.order == order)]
    if unused and coverage.schedules:
        lines.append(f"no step ran {' or '.join(unused)}")
    return lines


def console_table(coverage: Coverage) -> Table:
    """Kind x target by hold bucket; each cell the steps drawn per order (a red `-`: never)."""
    from rich.table import Table

    rows = _rows(coverage)
    widest = max((len(holds) for holds in rows.values()), default=0)
    shared = {tuple(holds) for holds in rows.values()}
    headers = [b.label for b in next(iter(shared))] if len(shared) == 1 else [f"hold {i + 1}" for i in range(widest)]
    per = " / ".join(_SHORT[o] for o in coverage.orders)
    table = Table(title=f"steps drawn ({per})" if len(coverage.orders) > 1 else "steps drawn", title_justify="left")
    table.add_column("fault")
    for header in headers:
        table.add_column(header, justify="right")
    for (kind, target), holds in rows.items():
        cells = [(f"{bucket.label}: " if len(shared) > 1 else "") + _counts(counts) for bucket, counts in holds.items()]
        table.add_row(f"{kind} {target}", *cells, *[""] * (widest - len(cells)))
    return table


def markdown(coverage: Coverage) -> list[str]:
    """The coverage section of report.md (without its heading)."""
    lines = [figures(coverage) + ".", "", *(f"- {line}" for line in never_drawn(coverage)), ""]
    lines += ["Each cell: the steps drawn in it (the schedules they were in).", "",
              "| fault | target | hold | " + " | ".join(coverage.orders) + " |",
              "|---|---|---|" + "---|" * len(coverage.orders)]
    for (kind, target), holds in _rows(coverage).items():
        for bucket, counts in holds.items():
            shown = [f"{c.steps} ({c.schedules})" if c.steps else "never" for c in counts]
            lines.append(f"| {kind} | {target} | {bucket.label} | " + " | ".join(shown) + " |")
    return lines


def _rows(coverage: Coverage) -> dict[tuple[str, str], dict[HoldBucket, list[CellCount]]]:
    """The cells by kind and target, then by hold bucket, in the space's order (each list in `orders`' order)."""
    rows: dict[tuple[str, str], dict[HoldBucket, list[CellCount]]] = {}
    for c in coverage.cells:
        rows.setdefault((c.cell.kind, c.cell.target), {}).setdefault(c.cell.hold, []).append(c)
    return rows


def _counts(counts: Sequence[CellCount]) -> str:
    return " / ".join(str(c.steps) if c.steps else "[red]-[/red]" for c in counts)
