"""``make bench``: per week, how long and how much memory grading the reference takes, and what the
harness costs, measured in one run and written to ``BENCHMARKS.md``.

- *grading*: the one grading path (``run_autograder`` on the week's Gradescope tree, see
  ``commands.grade``) on the reference, with one thread (``OMP_NUM_THREADS=1``): wall time, and
  peak memory as the grader's peak resident size plus the largest worker's (the sum of the two
  peaks, an upper bound on what both held at once);
- *in-process*: the same public and hidden tests run by pytest with the course plugin in its
  in-process mode, the student's code imported into the same process (no sandbox, no protocol,
  one interpreter);
- *overhead*: grading minus in-process, in seconds and as a ratio: the supervisor's, grader's and
  worker's interpreter start-ups, the protocol, and the sandbox. Budgets (DESIGN): grading at
  most 60 s, memory at most 1.5 GB, overhead at most 1.5 s per submission.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from ...config import WeekConfig, load_all_weeks, load_week
from ...paths import Repo
from .grade import grade

OVERHEAD_BUDGET_SECONDS = 1.5


def _one_thread_env() -> None:
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[key] = "1"


def in_process_seconds(repo: Repo, week: WeekConfig) -> float:
    paths = [str(p) for p in (repo.public_tests(week.name), repo.hidden_tests(week.name)) if p.is_dir()]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "pytest.ini").write_text("[pytest]\n")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "coursekit.plugin", "-p", "no:cacheprovider",
                        "--assert=plain", "--rootdir", tmp, "-c", str(Path(tmp) / "pytest.ini"),
                        "--week-config", str(repo.config_path(week.name)),
                        "--submission", str(repo.solution(week.name)), "--grading-mode", "inprocess",
                        *paths], capture_output=True, text=True, cwd=tmp)
        return time.perf_counter() - start


def measure(repo: Repo, week: WeekConfig) -> dict:
    _one_thread_env()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        results = grade(repo, week, repo.solution(week.name), Path(tmp) / "r.json", quiet=True)
        graded = time.perf_counter() - start
    inproc = in_process_seconds(repo, week)
    rss = results.get("extra_data", {}).get("peak_rss_mb", {})
    memory = float(rss.get("grader", 0)) + float(rss.get("worker", 0))
    return {"week": week.name, "score": results["score"], "max": week.total_points,
            "grade_s": graded, "inprocess_s": inproc, "overhead_s": graded - inproc,
            "ratio": graded / inproc if inproc else float("nan"), "memory_mb": memory,
            "budget_s": week.budget.grade_seconds, "budget_mb": week.budget.memory_mb}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}, {'root' if os.geteuid() == 0 else 'non-root'}")


def render(rows: list[dict]) -> str:
    lines = [
        "# Benchmarks", "",
        "Written by `make bench` (`coursekit bench`); numbers from one run, on one thread "
        "(`OMP_NUM_THREADS=1`).", "",
        f"Measured {date.today().isoformat()} on: {machine()}.", "",
        "| week | reference score | grading (s) | in-process pytest (s) | harness overhead (s) | ratio | "
        "peak memory, grader + worker (MB) | budget |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        ok = (r["grade_s"] <= r["budget_s"] and r["memory_mb"] <= r["budget_mb"]
              and r["overhead_s"] <= OVERHEAD_BUDGET_SECONDS)
        lines.append(f"| {r['week']} | {r['score']:g} / {r['max']:g} | {r['grade_s']:.2f} | "
                     f"{r['inprocess_s']:.2f} | {r['overhead_s']:.2f} | {r['ratio']:.2f} | "
                     f"{r['memory_mb']:.0f} | {'within' if ok else 'OVER'} ({r['budget_s']:g} s, "
                     f"{r['budget_mb']} MB, overhead {OVERHEAD_BUDGET_SECONDS} s) |")
    lines += ["", "Grading is the one grading path: `run_autograder` on the week's Gradescope tree, its "
              "supervisor, a fresh isolated grader interpreter, and the sandboxed worker or workers (one "
              "per group of files a week forbids different packages in; under bubblewrap's namespaces "
              "and the run's own worker user when run as root). In-process is pytest with the course "
              "plugin on the same tests, the reference imported into the same process. The overhead is "
              "their difference: the interpreters' start-up, the protocol and the sandbox.", ""]
    return "\n".join(lines)


def main(*, week: str | None = None, repo: Repo | None = None, output: Path | None = None) -> int:
    repo = repo or Repo.here()
    weeks = [load_week(repo, week)] if week else load_all_weeks(repo)
    rows = []
    for config in weeks:
        print(f"bench {config.name} …", flush=True)
        rows.append(measure(repo, config))
    text = render(rows)
    print(text)
    if week is None:  # the file always holds every week from one run, so ratios compare fairly
        out = output or repo.root / "BENCHMARKS.md"
        out.write_text(text, encoding="utf-8")
        print(f"written to {out}")
    else:
        print("(one week measured: BENCHMARKS.md is written by `make bench` without HW)")
    over = [r["week"] for r in rows if r["grade_s"] > r["budget_s"] or r["memory_mb"] > r["budget_mb"]
            or r["overhead_s"] > OVERHEAD_BUDGET_SECONDS]
    return 1 if over else 0
