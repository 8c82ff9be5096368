"""What ``run_autograder`` runs: one grading run from start to a valid results file.

``python -I -m coursekit.grading.run --root ROOT [--deadline SECONDS]``, on Gradescope's layout
(:mod:`coursekit.grading.layout`). Every local tool (``make grade``, ``make verify``, ``make demo``,
``make bench``, batch grading) reaches it through the same ``run_autograder`` script:

1. write the fallback results (score 0 and why) before anything else;
2. as root, take a worker user of this run's own (:mod:`coursekit.grading.users`) and hold its lock
   until the end, and make ``source/`` and ``results/`` private;
3. start the grader (:mod:`coursekit.grading.entry`) in a fresh, isolated interpreter, in its own
   process group, under the overall deadline;
4. end every process this run's worker user left, and only this run's (never another run's
   worker: concurrent gradings on one machine do not disturb each other);
5. keep the grader's results if they are valid, otherwise write a fallback that says what happened.

The exit code is 0 whenever a valid results file exists (always, barring a full disk).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import results as results_mod
from . import users
from .layout import Layout

DEFAULT_DEADLINE = 540.0  # below Gradescope's default limit of 600 s
NOT_FINISHED = ("The autograder did not finish. Your course staff has been notified; try submitting "
                "again later.")
#: Variables a grading run never inherits (they would change what pytest loads or Python runs).
SCRUBBED_ENV = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME",
                "PYTHONINSPECT", "PYTHONBREAKPOINT", "COURSEKIT_SECRET_PATHS", "COURSEKIT_GRADING")
# (COURSEKIT_HIDE_PATHS passes through: a local tool names the checkout to hide from the worker.)


def protect(layout: Layout) -> list[Path]:
    """As root: make the grader's files and the results folder private; return them (the worker's
    preflight checks that it really cannot read them)."""
    secret = [layout.source, layout.results_dir]
    if users.is_root():
        for path in secret:
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, 0, 0)
            path.chmod(0o700)
    return secret


def grader_env(layout: Layout, secret: list[Path]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["COURSEKIT_GRADING"] = "1"
    env["COURSEKIT_SECRET_PATHS"] = os.pathsep.join(str(p) for p in secret)
    if layout.datasets.is_dir():
        env["COURSEKIT_DATASETS"] = str(layout.datasets)
    return env


def run_grader(layout: Layout, deadline: float, worker_user: str | None, log=print) -> str:
    """Start the grader and wait for it; return ``"done"``, ``"timeout"`` or ``"crashed (…)"``."""
    cmd = [sys.executable, "-I", "-m", "coursekit.grading.entry", "--root", str(layout.root)]
    if worker_user:
        cmd += ["--worker-user", worker_user]
    proc = subprocess.Popen(cmd, cwd=layout.source, env=grader_env(layout, protect(layout)),
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        code = proc.wait(timeout=deadline)
    except subprocess.TimeoutExpired:
        users.send(-proc.pid, signal.SIGKILL)  # the grader's whole process group
        proc.wait()
        return "timeout"
    return "done" if code == 0 else f"crashed (exit code {code})"


def final_results(layout: Layout, how: str, deadline: float) -> dict:
    """The grader's results when they are valid, else the fallback that says what happened."""
    if how == "timeout":
        return results_mod.fallback(
            f"Grading took longer than the {deadline:.0f}-second limit and was stopped, so no test "
            "could be scored. Look for an infinite loop or very slow code, then submit again.")
    try:
        data = json.loads(layout.results.read_text(encoding="utf-8"))
        results_mod.validate(data)
        if data.get("extra_data", {}).get("fallback"):
            raise ValueError("the grader wrote none: the fallback is still in place")
        return data
    except (OSError, ValueError) as e:
        print(f"run: the grader left no valid results ({e}); {how}", file=sys.stderr)
        return results_mod.fallback("The autograder could not produce valid results. Your course "
                                    "staff has been notified.")


def grade(root: Path, deadline: float = DEFAULT_DEADLINE, log=print) -> dict:
    """One grading run on ``root``; returns the results document it wrote."""
    layout = Layout(Path(root).resolve())
    layout.results_dir.mkdir(parents=True, exist_ok=True)
    results_mod.write_atomic(results_mod.fallback(NOT_FINISHED), layout.results)
    users.become_subreaper()
    held = users.acquire() if users.is_root() else None
    started = time.monotonic()
    try:
        how = run_grader(layout, deadline, held.name if held else None)
    finally:
        # Whatever the run left (the grader was killed, a student's daemon): only this run's.
        swept = {}
        if held is not None:
            swept = users.clear_user(held.uid)
        users.end_processes(lambda: users.descendants_of(os.getpid()))
    data = final_results(layout, how, deadline)
    data.setdefault("extra_data", {})["grading_run"] = {
        "worker_user": held.name if held else None, "grader": how, "swept": swept,
        "seconds": round(time.monotonic() - started, 3)}
    results_mod.write_atomic(data, layout.results)
    if held is not None:
        held.release()
    log(f"run_autograder: grader {how} in {time.monotonic() - started:.1f} s; "
        f"results in {layout.results} (score {data['score']:g})")
    for flag in data.get("extra_data", {}).get("integrity", []):  # this log is for staff only
        log(f"run_autograder: integrity flag (never scored): {flag.get('kind')}: {flag.get('file')} "
            f"line {flag.get('line')}: {flag.get('detail')}")
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coursekit.grading.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default="/autograder", help="the Gradescope-like root folder")
    parser.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE,
                        help="seconds the grader may take in all")
    args = parser.parse_args(argv)
    grade(Path(args.root), args.deadline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
