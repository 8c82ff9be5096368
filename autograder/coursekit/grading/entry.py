"""The grading entry point: what ``run_autograder`` runs on Gradescope and ``make grade`` runs locally.

It expects Gradescope's layout under ``root`` (``/autograder`` on Gradescope)::

    root/source/week.toml            the week's config
    root/source/tests/public/        the public tests
    root/source/tests/hidden/        the hidden graders (and their goldens)
    root/submission/                 the student's upload, in any reasonable shape
    root/results/results.json        written here, atomically, after every worker process is gone

Run it as ``python -I -m coursekit.grading.entry --root ROOT``: isolated mode keeps the working
folder, ``PYTHONPATH`` and user site-packages off ``sys.path``; pytest runs with our plugin alone
(no plugin autoload, no environment options), rooted in ``source/``, never in the submission.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

SCRUBBED_ENV = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME")


def pytest_args(source: Path, results: Path) -> list[str]:
    tests = source / "tests"
    args = ["-p", "coursekit.plugin", "-p", "no:cacheprovider", "-p", "no:stepwise",
            "--rootdir", str(source), "-c", str(source / "pytest.ini"), "--assert=plain", "-q",
            "--week-config", str(source / "week.toml"), "--grading-mode", "worker",
            "--submission", str(source.parent / "submission"), "--results", str(results),
            "--public-dir", str(tests / "public"), "-W", "ignore::pytest.PytestUnraisableExceptionWarning"]
    return args + [str(p) for p in (tests / "public", tests / "hidden") if p.is_dir()]


def protect(root: Path) -> list[Path]:
    """As root: make the grader's files and the results folder private; return them (the preflight
    checks that the worker really cannot read them)."""
    secret = [root / "source", root / "results"]
    if os.geteuid() == 0:
        for path in secret:
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, 0, 0)
            path.chmod(0o700)
    return secret


def run(root: Path) -> int:
    """Grade the submission under ``root``; return 0 whenever a valid results file was written."""
    import pytest

    from . import results as results_mod
    from .sandbox import become_subreaper

    root = Path(root).resolve()
    source, results_path = root / "source", root / "results" / "results.json"
    results_path.parent.mkdir(parents=True, exist_ok=True)
    # A valid answer exists from the first moment; everything after only improves on it.
    results_mod.write_atomic(results_mod.fallback(
        "The autograder did not finish. Your course staff has been notified; try submitting again, "
        "and if this persists, contact them."), results_path)
    for key in SCRUBBED_ENV:
        os.environ.pop(key, None)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    os.environ["COURSEKIT_SECRET_PATHS"] = os.pathsep.join(str(p) for p in protect(root))
    become_subreaper()
    ini = source / "pytest.ini"
    if not ini.exists():
        ini.write_text("[pytest]\n", encoding="utf-8")
    os.chdir(source)
    code = pytest.main(pytest_args(source, results_path))
    try:
        data = json.loads(results_path.read_text(encoding="utf-8"))
        results_mod.validate(data)
    except (OSError, ValueError) as e:
        print(f"error: no valid results were written ({e}); the fallback results stand", file=sys.stderr)
        return 1
    if data.get("extra_data", {}).get("fallback"):
        print(f"error: pytest ended with code {code} before writing results", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coursekit.grading.entry", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default="/autograder", help="the Gradescope-like root folder")
    args = parser.parse_args(argv)
    return run(Path(args.root))


if __name__ == "__main__":
    sys.exit(main())
