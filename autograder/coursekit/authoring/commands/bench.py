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
  most 60 s, memory at most 1.5 GB, overhead at most 1.5 s per submission. Each week is measured
  ``REPEATS`` times, grading and in-process alternately; times are medians (see ``measure``);
- *batch grading*: a synthetic Gradescope export of 200 week-1 submissions (reference, stencil and
  every known-bad submission in turn, some as zips; :mod:`coursekit.authoring.class_export`)
  graded by ``grade-all`` with 1 and with 2 jobs: throughput in submissions per minute, the
  speed-up, and peak memory (the proportional set size summed over every process of the batch,
  sampled); every submission must get valid results, the gradebook's totals must equal them, and
  each submission exactly its expected scores. The target, on 2 cores, is a speed-up of 1.6.
"""

from __future__ import annotations

import os
import platform
import statistics
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
BATCH_WEEK = "perceptron"
BATCH_SUBMISSIONS = 200
BATCH_JOBS = (1, 2)
SPEEDUP_TARGET = 1.6
#: Paired runs per week: on a shared machine one run's overhead varies by a second or more.
REPEATS = 5


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


def measure(repo: Repo, week: WeekConfig, repeats: int = REPEATS) -> dict:
    """Grade the reference and run its tests in process, alternately, ``repeats`` times each:
    the medians of the grading times, of the in-process times and of the paired differences (the
    overhead), and the largest memory. Alternating keeps a change in the machine's load from
    falling on one side only; the median keeps one disturbed run from deciding the verdict."""
    _one_thread_env()
    runs = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            results = grade(repo, week, repo.solution(week.name), Path(tmp) / "r.json", quiet=True)
            graded = time.perf_counter() - start
        inproc = in_process_seconds(repo, week)
        rss = results.get("extra_data", {}).get("peak_rss_mb", {})
        runs.append((graded, inproc, float(rss.get("grader", 0)) + float(rss.get("worker", 0)), results["score"]))
    graded = statistics.median(r[0] for r in runs)
    inproc = statistics.median(r[1] for r in runs)
    overheads = [r[0] - r[1] for r in runs]
    return {"week": week.name, "score": min(r[3] for r in runs), "max": week.total_points,
            "grade_s": graded, "inprocess_s": inproc, "overhead_s": statistics.median(overheads),
            "overhead_range": (min(overheads), max(overheads)), "repeats": repeats,
            "ratio": graded / inproc if inproc else float("nan"), "memory_mb": max(r[2] for r in runs),
            "budget_s": week.budget.grade_seconds, "budget_mb": week.budget.memory_mb}


class PeakMemory:
    """The largest sum of proportional set sizes (shared pages split between the processes that
    share them) over this process and its descendants, sampled every ``interval`` seconds."""

    def __init__(self, interval: float = 0.5):
        import threading

        self.interval, self.peak_mb = interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _pss_kb(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="ascii", errors="replace") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return 0

    def sample(self) -> float:
        from ...grading.users import descendants_of

        pids = [os.getpid(), *descendants_of(os.getpid())]
        return sum(self._pss_kb(pid) for pid in pids) / 1024

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_mb = max(self.peak_mb, self.sample())

    def __enter__(self) -> "PeakMemory":
        self.peak_mb = self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def check_batch(week: WeekConfig, planted: list, results_dir: Path, gradebook_rows: list[dict]) -> list[str]:
    """Problems with a batch's outcome: a submission without valid, finished results, a gradebook
    total that is not its results' score, a submission not scoring exactly what it must."""
    from .. import gradebook

    problems = []
    totals = {row["submission"]: row["total"] for row in gradebook_rows}
    for p in planted:
        results = gradebook.read(gradebook.results_path(results_dir, p.id))
        if results is None or not gradebook.complete(results):
            problems.append(f"{p.id} ({p.kind}): no valid, finished results")
            continue
        if totals.get(p.id) in (None, "") or abs(float(totals[p.id]) - results["score"]) > 1e-6:
            problems.append(f"{p.id} ({p.kind}): gradebook total {totals.get(p.id)!r}, results {results['score']:g}")
        problems += [f"{p.id} ({p.kind}): {problem}" for problem in p.check(results)]
    return problems


def measure_batch(repo: Repo, count: int = BATCH_SUBMISSIONS, jobs_list=BATCH_JOBS, echo=print) -> list[dict]:
    """Grade a synthetic export of ``count`` week-1 submissions with each number of jobs."""
    from .. import gradebook
    from ..class_export import synthetic_export
    from ..submissions import discover
    from .grade_all import grade_all, prepare_graders

    _one_thread_env()
    week = load_week(repo, BATCH_WEEK)
    rows = []
    with tempfile.TemporaryDirectory(prefix="coursekit-bench-batch-") as tmp:
        tmp = Path(tmp)
        planted = synthetic_export(repo, week, tmp / "export", count)
        submissions = discover(tmp / "export", tmp / "unpacked")
        graders = prepare_graders(repo, week, tmp)
        for jobs in jobs_list:
            echo(f"bench batch: {count} {week.name} submissions, {jobs} job{'s' if jobs > 1 else ''} …")
            out = tmp / f"jobs-{jobs}"
            load = os.getloadavg()[0]
            with PeakMemory() as memory:
                start = time.perf_counter()
                outcome = grade_all(repo, week, submissions, out / "results", graders, jobs=jobs, progress=False)
                wall = time.perf_counter() - start
            graded = gradebook.collect(submissions, [out / "results"], graders.hash)
            problems = check_batch(week, planted, out / "results", gradebook.gradebook_rows(week, graded))
            if len(outcome.graded) != count:
                problems.append(f"graded {len(outcome.graded)} of {count}")
            rows.append({"jobs": jobs, "count": count, "wall_s": wall, "per_minute": 60 * count / wall,
                         "memory_mb": memory.peak_mb, "load": load, "problems": problems})
    base = rows[0]["per_minute"]
    for row in rows:
        row["speedup"] = row["per_minute"] / base
    return rows


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


def render_batch(rows: list[dict]) -> list[str]:
    lines = ["## Batch grading", "",
             f"`grade-all` on a synthetic Gradescope export of {rows[0]['count']} {BATCH_WEEK} submissions "
             "(the reference, the untouched stencil and every known-bad submission in turn, every fifth "
             "as a zip), each graded through `run_autograder` as above, one thread per process. "
             f"Measured {date.today().isoformat()} on: {machine()}.", "",
             "| jobs | wall (s) | throughput (submissions/min) | speed-up | peak memory, all processes (MB) | "
             "load average at start | checks |",
             "|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        checks = "every result valid, totals equal, expected scores" if not r["problems"] else \
            f"FAILED: {len(r['problems'])} problems"
        lines.append(f"| {r['jobs']} | {r['wall_s']:.1f} | {r['per_minute']:.1f} | {r['speedup']:.2f} | "
                     f"{r['memory_mb']:.0f} | {r['load']:.1f} | {checks} |")
    best = max(r["speedup"] for r in rows)
    lines += ["", f"Target: 2 jobs at least {SPEEDUP_TARGET}x the throughput of one on 2 cores "
              f"({'met' if best >= SPEEDUP_TARGET else 'NOT met'} here, {os.cpu_count()} cores). Peak memory "
              "is the largest sum, over every process of the batch, of the proportional set size (shared "
              "pages split between their processes), sampled every 0.5 s. Other work on the machine (the "
              "load average) slows the runs, and distorts the speed-up when it changes between them."]
    if any(r["load"] > (os.cpu_count() or 1) for r in rows):
        lines += ["", "**Disturbed measurement**: the load average exceeded the number of cores, so other "
                  "work shared the machine; rerun `make bench` on a quiet machine before relying on these "
                  "numbers."]
    return lines + [""]


def render(rows: list[dict], batch: list[dict] | None = None) -> str:
    lines = [
        "# Benchmarks", "",
        "Written by `make bench` (`coursekit bench`); numbers from one run of it, on one thread "
        f"(`OMP_NUM_THREADS=1`). Each week's reference is graded and its tests run in process "
        f"alternately, {rows[0]['repeats'] if rows else REPEATS} times each: times are medians, the "
        "overhead is the median of the paired differences (its range in brackets), memory the "
        "largest.", "",
        f"Measured {date.today().isoformat()} on: {machine()}.", "",
        "| week | reference score | grading (s) | in-process pytest (s) | harness overhead (s) | ratio | "
        "peak memory, grader + worker (MB) | budget |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        ok = (r["grade_s"] <= r["budget_s"] and r["memory_mb"] <= r["budget_mb"]
              and r["overhead_s"] <= OVERHEAD_BUDGET_SECONDS)
        lines.append(f"| {r['week']} | {r['score']:g} / {r['max']:g} | {r['grade_s']:.2f} | "
                     f"{r['inprocess_s']:.2f} | {r['overhead_s']:.2f} [{r['overhead_range'][0]:.2f}, "
                     f"{r['overhead_range'][1]:.2f}] | {r['ratio']:.2f} | "
                     f"{r['memory_mb']:.0f} | {'within' if ok else 'OVER'} ({r['budget_s']:g} s, "
                     f"{r['budget_mb']} MB, overhead {OVERHEAD_BUDGET_SECONDS} s) |")
    lines += ["", "Grading is the one grading path: `run_autograder` on the week's Gradescope tree, its "
              "supervisor, a fresh isolated grader interpreter, and the sandboxed worker or workers (one "
              "per group of files a week forbids different packages in; under bubblewrap's namespaces "
              "and the run's own worker user when run as root). In-process is pytest with the course "
              "plugin on the same tests, the reference imported into the same process. The overhead is "
              "their difference: the interpreters' start-up, the protocol and the sandbox.", ""]
    if batch:
        lines += render_batch(batch)
    return "\n".join(lines)


def main(*, week: str | None = None, repo: Repo | None = None, output: Path | None = None,
         batch: int = BATCH_SUBMISSIONS, repeats: int = REPEATS) -> int:
    if repeats < 1:
        print("error: --repeats must be at least 1", file=sys.stderr)
        return 2
    repo = repo or Repo.here()
    weeks = [load_week(repo, week)] if week else load_all_weeks(repo)
    rows = []
    for config in weeks:
        print(f"bench {config.name} …", flush=True)
        rows.append(measure(repo, config, repeats))
    batch_rows = measure_batch(repo, batch, echo=lambda t: print(t, flush=True)) if batch and week is None else None
    text = render(rows, batch_rows)
    print(text)
    if week is None:  # the file always holds every week from one run, so ratios compare fairly
        out = output or repo.root / "BENCHMARKS.md"
        out.write_text(text, encoding="utf-8")
        print(f"written to {out}")
    else:
        print("(one week measured: BENCHMARKS.md is written by `make bench` without HW)")
    over = [r["week"] for r in rows if r["grade_s"] > r["budget_s"] or r["memory_mb"] > r["budget_mb"]
            or r["overhead_s"] > OVERHEAD_BUDGET_SECONDS]
    wrong = [p for r in batch_rows or [] for p in r["problems"]]
    for problem in wrong[:20]:
        print(f"batch: {problem}")
    return 1 if over or wrong else 0
