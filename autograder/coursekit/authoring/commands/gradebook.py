"""``make gradebook HW=x SUBMISSIONS=path [RESULTS="dir ..."] [OUT=dir]``: the gradebook of a batch.

Gathers the current results of every submission in ``SUBMISSIONS`` (the same export ``make
grade-all`` graded) from one or more results folders (default ``OUT/results``; shards of a Slurm
job array write there too, or each to a folder of its own), and writes the gradebook CSV, the
per-test pass rates, the flagged list and the charts into ``OUT`` (default
``dist/grade-all/<week>``); see :mod:`coursekit.authoring.gradebook`. Results count only when they
were graded from the submission's present files by the graders the repository builds now (or
``--archive``): a submission without them is listed as *not graded*, and the exit code is 1.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from ...config import WeekConfig, load_week
from ...paths import Repo
from .. import gradebook
from ..submissions import ExportError, Submission, discover
from .grade_all import current_graders_hash, default_out


def write_gradebook(repo: Repo, week: WeekConfig, submissions: list[Submission], results_dirs: list[Path],
                    out: Path, graders: str) -> int:
    """Collect, write every file, print the summary; 0 when every submission has results, else 1."""
    graded = gradebook.collect(submissions, results_dirs, graders)
    written = gradebook.write(week, graded, out)
    print(gradebook.summary(week, written))
    if written.missing:
        shown = ", ".join(written.missing[:10]) + (", …" if len(written.missing) > 10 else "")
        print(f"warning: {len(written.missing)} submissions have no current results ({shown}): a shard "
              "that has not finished, an interrupted run, or graders changed since; run grade-all again")
        return 1
    return 0


def main(*, week: str, submissions: str, results: list[str] | None = None, out: str | None = None,
         archive: str | None = None, repo: Repo | None = None) -> int:
    repo = repo or Repo.here()
    config = load_week(repo, week)
    path = Path(submissions)
    if not path.exists():
        print(f"error: {submissions} does not exist; SUBMISSIONS must be the export grade-all graded")
        return 2
    out_dir = Path(out) if out else default_out(repo, week)
    folders = [Path(r) for r in results] if results else [out_dir / "results"]
    absent = [str(f) for f in folders if not f.is_dir()]
    if absent:
        print(f"error: no results folder {', '.join(absent)}; run make grade-all first, or name the "
              "shards' folders with RESULTS")
        return 2
    with tempfile.TemporaryDirectory(prefix="coursekit-gradebook-") as work:
        try:
            everyone = discover(path, Path(work) / "export")
        except (ExportError, zipfile.BadZipFile) as e:
            print(f"error: {e}")
            return 2
        graders = current_graders_hash(repo, config, Path(archive) if archive else None)
        return write_gradebook(repo, config, everyone, folders, out_dir, graders)
