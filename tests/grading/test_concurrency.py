"""Gradings on one machine never disturb each other: eight at once, mixing `make grade` and a built
zip's `run_autograder`, beside two CPU-burning processes, three times over. Every run takes a worker
user of its own and ends only that user's processes; limits are charged in the worker's own time,
so the load changes no score."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from coursekit.authoring import known_bad
from coursekit.authoring.commands import autograder
from coursekit.authoring.commands.grade import grade
from coursekit.authoring.commands.verify import check_known_bad, check_reference
from coursekit.config import load_week
from coursekit.paths import Repo

REPO = Repo.here()
WEEK = "cnn"  # the week whose reference once lost points to a concurrent grading's clean-up
ROUNDS = 3
pytestmark = pytest.mark.slow


def _make_grade(folder: Path, out: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "coursekit", "grade", WEEK, str(folder), "--results", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text())


def test_eight_gradings_at_once_beside_cpu_burners_keep_every_score(tmp_path):
    config = load_week(REPO, WEEK)
    archive = autograder.build(REPO, config, tmp_path / f"{WEEK}.zip")
    bads = known_bad.discover(REPO.known_bad(WEEK))[:7]
    runs = [("reference", REPO.solution(WEEK), lambda r: check_reference(config, r))]
    for bad in bads:
        folder = known_bad.materialize(bad, REPO.solution(WEEK), config, tmp_path / "bad" / bad.name)
        runs.append((bad.name, folder, lambda r, b=bad: check_known_bad(b, r)))
    assert len(runs) == 8
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        for round_ in range(ROUNDS):
            def one(index: int):
                label, folder, checker = runs[index]
                out = tmp_path / f"r{round_}-{index}.json"
                # Half through the command line, half through the zip's own run_autograder.
                results = (_make_grade(folder, out) if index % 2 == 0
                           else grade(REPO, config, folder, out, quiet=True, archive=archive))
                return label, checker(results)

            with ThreadPoolExecutor(max_workers=len(runs)) as pool:
                outcomes = list(pool.map(one, range(len(runs))))
            problems = [f"round {round_ + 1}, {label}: {p}" for label, found in outcomes for p in found]
            assert not problems, "\n".join(problems)
    finally:
        for b in burners:
            b.kill()
            b.wait()
