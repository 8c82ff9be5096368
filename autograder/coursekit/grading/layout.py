"""Gradescope's layout of one grading run: the single description every tool builds and reads.

Gradescope unpacks the uploaded zip into ``/autograder/source``, puts the student's upload in
``/autograder/submission`` and reads ``/autograder/results/results.json``. The zip the TA uploads
(``make autograder``), the tree ``make grade`` / ``make verify`` / ``make demo`` / ``make bench``
grade in, and the grader entry all use the names below, so the three can never disagree::

    root/
      source/                    the zip's contents (root-only while grading)
        run_autograder setup.sh requirements.txt fallback.json
        week.toml                the week's config
        drivers.py               the week's public drivers (optional)
        tests/public/            the public tests
        tests/hidden/            the hidden graders, their helpers and goldens
        datasets/                the bundled data
        engine/                  the grading engine, installed by setup.sh
      submission/                the student's upload, in any shape
      submission_metadata.json   Gradescope's metadata (optional)
      results/results.json       written atomically after every worker process is gone
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: Names inside ``source/`` (the zip's root).
RUN_AUTOGRADER = "run_autograder"
SETUP = "setup.sh"
REQUIREMENTS = "requirements.txt"
FALLBACK = "fallback.json"
CONFIG = "week.toml"
DRIVERS = "drivers.py"
PUBLIC_TESTS = "tests/public"
HIDDEN_TESTS = "tests/hidden"
DATASETS = "datasets"
ENGINE = "engine"
#: Files the zip marks executable.
EXECUTABLES = (RUN_AUTOGRADER, SETUP)


@dataclass(frozen=True)
class Layout:
    """The paths of one grading run under ``root`` (``/autograder`` on Gradescope)."""

    root: Path

    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def submission(self) -> Path:
        return self.root / "submission"

    @property
    def results_dir(self) -> Path:
        return self.root / "results"

    @property
    def results(self) -> Path:
        return self.results_dir / "results.json"

    @property
    def metadata(self) -> Path:
        return self.root / "submission_metadata.json"

    @property
    def config(self) -> Path:
        return self.source / CONFIG

    @property
    def drivers(self) -> Path:
        return self.source / DRIVERS

    @property
    def public_tests(self) -> Path:
        return self.source / PUBLIC_TESTS

    @property
    def hidden_tests(self) -> Path:
        return self.source / HIDDEN_TESTS

    @property
    def datasets(self) -> Path:
        return self.source / DATASETS

    @property
    def fallback(self) -> Path:
        return self.source / FALLBACK

    @property
    def run_autograder(self) -> Path:
        return self.source / RUN_AUTOGRADER
