"""The grader process: pytest with the course plugin on Gradescope's layout.

Started only by :mod:`coursekit.grading.run` (what ``run_autograder`` runs), as
``python -I -m coursekit.grading.entry --root ROOT [--worker-user NAME]``: isolated mode keeps the
working folder, ``PYTHONPATH`` and user site-packages off ``sys.path``; pytest runs with our plugin
alone (no plugin autoload, no environment options), rooted in ``source/``, never in the submission,
and always with the sandboxed worker. It writes ``results/results.json`` atomically after every
worker process is gone.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .layout import Layout


def pytest_args(layout: Layout, worker_user: str | None = None) -> list[str]:
    source = layout.source
    args = ["-p", "coursekit.plugin", "-p", "no:cacheprovider", "-p", "no:stepwise",
            "--rootdir", str(source), "-c", str(source / "pytest.ini"), "--assert=plain", "-q",
            "--week-config", str(layout.config), "--grading-mode", "worker",
            "--submission", str(layout.submission), "--results", str(layout.results),
            "--public-dir", str(layout.public_tests), "-W", "ignore::pytest.PytestUnraisableExceptionWarning"]
    if worker_user:
        args += ["--worker-user", worker_user]
    return args + [str(p) for p in (layout.public_tests, layout.hidden_tests) if p.is_dir()]


def run(root: Path, worker_user: str | None = None) -> int:
    """Grade the submission under ``root``; return pytest's exit code."""
    import pytest

    from .users import become_subreaper

    layout = Layout(Path(root).resolve())
    become_subreaper()
    ini = layout.source / "pytest.ini"
    if not ini.exists():
        ini.write_text("[pytest]\n", encoding="utf-8")
    return int(pytest.main(pytest_args(layout, worker_user)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coursekit.grading.entry", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default="/autograder", help="the Gradescope-like root folder")
    parser.add_argument("--worker-user", default=None, help="the worker user the supervisor holds")
    args = parser.parse_args(argv)
    code = run(Path(args.root), args.worker_user)
    return 0 if code in (0, 1) else code  # 1: some tests failed, which is what grading is for


if __name__ == "__main__":
    status = main()
    # The results are written and every worker is reaped (pytest_sessionfinish): tearing down an
    # interpreter that holds torch takes half a second and changes nothing, so it is skipped.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
