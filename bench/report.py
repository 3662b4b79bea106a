"""Figures, their ceilings and targets: printed as a table, saved as JSON for ``run_all``.

A ``Figure`` is one measured value with, where it has one, the ceiling measured in the same
run (so ``ratio`` is value / ceiling) and a target with its verdict. ``met`` is None for a
figure that has no target (information only).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Figure:
    section: str
    name: str
    value: float
    unit: str
    ceiling: float | None = None
    target: str = ""
    met: bool | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.value / self.ceiling if self.ceiling else None


def median_round(ratios: list[float]) -> tuple[int, str]:
    """The round whose ratio is the median, and every round's ratio for a row's detail
    ("rounds: 92%, 91%, 102%"): this machine drifts, so a target row reports the middle of
    several rounds, each against its own ceiling."""
    order = sorted(range(len(ratios)), key=ratios.__getitem__)
    return order[len(order) // 2], "rounds: " + ", ".join(f"{r:.0%}" for r in ratios)


def ratio_figure(
    section: str,
    name: str,
    value: float,
    ceiling: float,
    unit: str,
    minimum: float,
    detail: str = "",
    **extra: Any,
) -> Figure:
    """A figure whose target is ``value / ceiling >= minimum``."""
    met = ceiling > 0 and value / ceiling >= minimum
    return Figure(
        section, name, value, unit, ceiling, f">= {minimum:.0%} of ceiling", met, detail, extra
    )


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def _verdict(met: bool | None) -> str:
    return {True: "MET", False: "MISSED", None: ""}[met]


def table(figures: Iterable[Figure]) -> str:
    rows = [("figure", "value", "ceiling", "ratio", "target", "", "detail")]
    for f in figures:
        ratio = f"{f.ratio:.0%}" if f.ratio is not None else "-"
        rows.append(
            (
                f"[{f.section}] {f.name}",
                _number(f.value, f.unit),
                _number(f.ceiling, f.unit) if f.ceiling is not None else "-",
                ratio,
                f.target or "-",
                _verdict(f.met),
                f.detail,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def markdown(figures: Iterable[Figure]) -> str:
    """The figures as Markdown tables, one per section (for docs/performance.md)."""
    sections: dict[str, list[Figure]] = {}
    for f in figures:
        sections.setdefault(f.section, []).append(f)
    out: list[str] = []
    for section, found in sections.items():
        out += ["", f"**{section}**", ""]
        out += ["| figure | value | ceiling | ratio | target | | detail |"]
        out += ["|---|--:|--:|--:|---|---|---|"]
        for f in found:
            ratio = f"{f.ratio:.0%}" if f.ratio is not None else ""
            ceiling = _number(f.ceiling, f.unit) if f.ceiling is not None else ""
            cells = [f.name, _number(f.value, f.unit), ceiling, ratio, f.target, _verdict(f.met)]
            cells.append(f.detail)
            out.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(out).strip() + "\n"


def save(path: Path, figures: list[Figure], notes: list[str]) -> None:
    path.write_text(json.dumps({"figures": [asdict(f) for f in figures], "notes": notes}, indent=1))


def load(path: Path) -> tuple[list[Figure], list[str]]:
    data = json.loads(path.read_text())
    return [Figure(**f) for f in data["figures"]], list(data["notes"])


def main() -> int:
    """``python -m bench.report results.json [--markdown]``: show saved figures again."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("results", type=Path)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    figures, notes = load(args.results)
    print(markdown(figures) if args.markdown else table(figures))
    for note in notes:
        print(f"- {note}" if args.markdown else f"note: {note}")
    return 0


def arguments(description: str | None) -> argparse.ArgumentParser:
    """The options every benchmark script takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes and shorter runs (a smoke test)"
    )
    parser.add_argument(
        "--profile", type=Path, help="record fedi-town with py-spy into this directory"
    )
    return parser


def finish(figures: list[Figure], notes: list[str], json_path: Path | None) -> int:
    print(table(figures))
    for note in notes:
        print(f"note: {note}")
    if json_path is not None:
        save(json_path, figures, notes)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
