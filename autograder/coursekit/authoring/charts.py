"""The gradebook's two charts, as PNG files: the distribution of total scores, and per task the
share of submissions that got all of its points (where a class struggles).

Figures are built with matplotlib's object API and its Agg renderer (no display, no pyplot state),
so charts can be drawn on a headless machine or from several threads.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..config import WeekConfig


def histogram_figure(week: WeekConfig, totals: list[float]):
    """A histogram of total scores, 0 to the week's points, in bins of a twentieth of them."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    top = float(week.total_points)
    bins = [top * i / 20 for i in range(21)]
    ax.hist(totals, bins=bins, color="#4c72b0", edgecolor="white")
    ax.set_xlim(0, top)
    ax.set_xlabel(f"total score (points, of {top:g})")
    ax.set_ylabel("submissions")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if totals:
        mean = sum(totals) / len(totals)
        ax.axvline(mean, color="#dd8452", linestyle="--", label=f"mean {mean:.1f}")
        ax.legend(loc="upper left")
    ax.set_title(f"{week.name}: total scores of {len(totals)} submissions")
    return fig


def task_figure(week: WeekConfig, rates: dict[int, float], count: int):
    """One bar per task: the share of submissions (in %) with all of the task's points."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(6.0, 0.8 * len(week.tasks) + 2), 4), layout="constrained")
    ax = fig.add_subplot()
    numbers = [t.number for t in week.tasks]
    values = [0.0 if math.isnan(rates.get(n, math.nan)) else 100 * rates[n] for n in numbers]
    bars = ax.bar([str(n) for n in numbers], values, color="#55a868")
    ax.bar_label(bars, labels=[f"{v:.0f}" for v in values], padding=2, fontsize=8)
    ax.set_ylim(0, 105)
    ax.set_xlabel("task")
    ax.set_ylabel("submissions with full marks (%)")
    ax.set_title(f"{week.name}: full marks per task ({count} submissions)")
    return fig


def _save(fig, path: Path) -> Path:
    """Write the PNG through a temporary file and a rename."""
    import os

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}-{os.getpid()}.png")
    try:
        fig.savefig(tmp, format="png", dpi=120)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def score_histogram(week: WeekConfig, totals: list[float], path: Path) -> Path:
    return _save(histogram_figure(week, totals), path)


def task_pass_rates(week: WeekConfig, rates: dict[int, float], count: int, path: Path) -> Path:
    return _save(task_figure(week, rates, count), path)
