"""Every handout agrees with its week's config: task headings, the points table, and the numbers it
quotes (thresholds and budgets), so the handout and the graders cannot drift apart."""

from __future__ import annotations

import re

import pytest

from coursekit.config import load_week
from coursekit.paths import Repo

REPO = Repo.here()
WEEKS = REPO.week_names()


def _number(text: str) -> float:
    return float(text.strip().strip("*"))


def points_table(handout: str) -> list[tuple[int, str, float]]:
    """Rows ``| 1 | Title | 6 |`` of the table whose header is ``| Task | Title | Points |``."""
    lines = handout.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"^\|\s*Task\s*\|\s*Title\s*\|\s*Points\s*\|", line))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0].isdigit():
            rows.append((int(cells[0]), cells[1], _number(cells[2])))
        elif "Total" in cells[1]:
            rows.append((0, "Total", _number(cells[2])))
    return rows


@pytest.mark.parametrize("week", WEEKS)
def test_points_table_equals_the_config(week):
    config = load_week(REPO, week)
    rows = points_table(REPO.handout(week).read_text(encoding="utf-8"))
    assert rows[:-1] == [(t.number, t.title, t.points) for t in config.tasks]
    assert rows[-1] == (0, "Total", config.total_points)


@pytest.mark.parametrize("week", WEEKS)
def test_task_headings_equal_the_config(week):
    config = load_week(REPO, week)
    handout = REPO.handout(week).read_text(encoding="utf-8")
    headings = re.findall(r"^### Task (\d+): (.+) \((\d+(?:\.\d+)?) points?\)$", handout, flags=re.M)
    assert [(int(n), title, float(p)) for n, title, p in headings] == \
        [(t.number, t.title, t.points) for t in config.tasks]


@pytest.mark.parametrize("week", WEEKS)
def test_quoted_numbers_come_from_the_config(week):
    config = load_week(REPO, week)
    handout = REPO.handout(week).read_text(encoding="utf-8")
    for key, value in config.thresholds.items():
        assert f"{value:g}" in handout or f"{value:.2f}" in handout, f"threshold {key}={value} not quoted"
    flat = " ".join(handout.split())  # line breaks do not matter
    assert f"after {config.budget.call_timeout_seconds:g} seconds" in flat
    assert f"each test after {config.budget.test_timeout_seconds:g} seconds" in flat
    assert f"the limit is {config.budget.grade_seconds:g} seconds" in flat
