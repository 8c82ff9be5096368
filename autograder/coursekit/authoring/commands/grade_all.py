"""``make grade-all HW=x SUBMISSIONS=path [JOBS=n]``: grade a whole class, then its gradebook.

``SUBMISSIONS`` is Gradescope's "Export Submissions" archive (zip or folder), a folder of submission
folders or zips, or a folder of cloned student repositories (:mod:`coursekit.authoring.submissions`).
Each submission is graded by exactly the path that grades one (``commands.grade.grade``: the week's
Gradescope tree and its ``run_autograder``, with a worker user of its own), ``JOBS`` at a time
(default: the cores this process may use), with a progress bar and an estimate of the time left.

- **Graders**: the week's Gradescope archive is built once (or ``--archive`` names one, such as the
  zip uploaded to Gradescope) and every submission is graded from it. Its files' hash keys the
  results, so a change to any grader, the engine or the data regrades everything.
- **Results**: ``OUT/results/<submission id>.json`` (``OUT`` defaults to ``dist/grade-all/<week>``),
  Gradescope's document plus ``extra_data.batch`` (submission id, hash of its files, hash of the
  graders, submitters), each written through a temporary file and a rename. A rerun skips every
  submission whose results match its key and finished; a submission the batch could not grade (an
  error of the batch itself) gets results that say so, and is graded again on the next run.
- **Interrupting**: the first Ctrl-C (or SIGTERM, as Slurm sends at a time limit) starts no new
  grading and waits for the running ones (their results are kept when they finish); a second one
  leaves at once, after any results file being written is complete; gradings still running are
  then abandoned and never recorded. Either way no file is ever half-written.
- **Shards**: ``--shard i/n`` (or a Slurm job array's ``SLURM_ARRAY_TASK_ID`` and
  ``SLURM_ARRAY_TASK_COUNT``) grades every n-th submission in id order, starting at the i-th; a
  sharded run writes results only, and ``make gradebook`` merges them when every shard is done.
- **Gradebook**: an unsharded run ends by writing it (``commands.gradebook``, the same function).
"""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import tempfile
import threading
import zipfile
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from ...config import WeekConfig, load_week
from ...paths import Repo
from .. import gradebook
from ..submissions import ExportError, ShardError, Submission, discover, parse_shard, shard
from ...grading.isolation import namespaces_available
from .grade import GradingRefused, grade, refuse_if_exposed


def default_out(repo: Repo, week: str) -> Path:
    return repo.dist / "grade-all" / week


# --- the graders ------------------------------------------------------------------------------

def graders_hash(files: dict[str, bytes]) -> str:
    """A hash of an autograder archive's files (names and bytes, in name order): equal for a zip
    and the tree it was built from, whatever the zip's compression or timestamps."""
    digest = hashlib.sha256()
    for name in sorted(files):
        data = files[name]
        digest.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return digest.hexdigest()


def archive_files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist() if not name.endswith("/")}


@dataclass(frozen=True)
class Graders:
    archive: Path  # the zip every grading of the run unpacks
    hash: str


def prepare_graders(repo: Repo, week: WeekConfig, folder: Path, archive: Path | None = None) -> Graders:
    """The graders of a batch: ``archive`` as it is, or the week's archive built into ``folder``
    (a private folder: shards on one file system never write the same file)."""
    from .autograder import contents, write_zip

    if archive is not None:
        return Graders(Path(archive), graders_hash(archive_files(Path(archive))))
    files = contents(repo, week)
    path = Path(folder) / f"{week.name}-graders.zip"
    write_zip(files, path)
    return Graders(path, graders_hash(files))


def current_graders_hash(repo: Repo, week: WeekConfig, archive: Path | None = None) -> str:
    """The hash :func:`prepare_graders` would key results with now (nothing is written)."""
    from .autograder import contents

    return graders_hash(archive_files(Path(archive)) if archive is not None else contents(repo, week))


# --- grading one, and many ------------------------------------------------------------------

def grade_submission(repo: Repo, week: WeekConfig, graders: Graders, submission: Submission,
                     key: dict, hide: list[Path] = ()) -> dict:
    """Grade one submission through ``commands.grade.grade`` on the batch's graders; its results
    with ``extra_data.batch`` added. Never raises for a submission's sake: when the batch itself
    cannot grade it, the results are a fallback that says why (and it is graded again next run)."""
    from ...grading.results import fallback

    error = None
    with tempfile.TemporaryDirectory(prefix="coursekit-grade-all-") as tmp:
        source = submission.path
        if source is None:  # listed in the export's metadata, but no files: graded as empty
            source = Path(tmp) / "empty"
            source.mkdir()
        try:
            data = grade(repo, week, source, Path(tmp) / "results.json", quiet=True, archive=graders.archive,
                         hide=hide)
        except Exception as e:  # one submission's trouble must not end the class's grading
            error = f"{type(e).__name__}: {e}"
            data = fallback("This submission could not be graded by the course's batch grader; your "
                            "course staff has been notified.")
    batch = dict(key, submitters=[vars(p) for p in submission.submitters])
    if error is not None:
        batch["error"] = error[:2000]
    data.setdefault("extra_data", {})["batch"] = batch
    return data


@dataclass
class Outcome:
    graded: list[str] = field(default_factory=list)   # ids graded in this run
    skipped: list[str] = field(default_factory=list)  # ids whose current results were kept
    failed: list[str] = field(default_factory=list)   # ids the batch could not grade
    interrupted: bool = False


class _Stop:
    """Ctrl-C and SIGTERM while a batch runs: the first stops new gradings, the second leaves at
    once (after any results file being written is complete)."""

    def __init__(self, write_lock: threading.Lock, echo):
        self.event = threading.Event()
        self.write_lock = write_lock
        self.echo = echo
        self.previous: dict[int, object] = {}

    def __enter__(self) -> "_Stop":
        if threading.current_thread() is threading.main_thread():  # only it may handle signals
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum, frame) -> None:
        if not self.event.is_set():
            self.event.set()
            self.echo("interrupted: no new grading starts; waiting for the running ones "
                      "(interrupt again to leave now, abandoning them)")
            return
        with self.write_lock:
            self.echo("interrupted again: leaving; the gradings still running are not recorded")
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)


def grade_all(repo: Repo, week: WeekConfig, submissions: list[Submission], results_dir: Path,
              graders: Graders, jobs: int | None = None, progress: bool = True, echo=print,
              hide: list[Path] = ()) -> Outcome:
    """Grade every submission that has no current, finished results in ``results_dir``, ``jobs``
    at a time; write each one's results atomically as it finishes. ``hide`` names what the TA
    handed over (the export, an archive, the output folder), which no worker may see. See the
    module docstring for interrupts. Returns what was graded and skipped."""
    from tqdm import tqdm

    from ...grading.results import write_atomic
    from ...grading.users import MAX_CONCURRENT_RUNS
    from .verify import default_jobs

    # Each grading holds one of the machine's worker users while it runs.
    jobs = min(max(1, jobs or default_jobs()), MAX_CONCURRENT_RUNS)
    results_dir = Path(results_dir)
    outcome = Outcome()
    todo: deque[tuple[Submission, dict]] = deque()
    for sub in sorted(submissions, key=lambda s: s.id):
        key = gradebook.batch_key(sub, graders.hash)
        old = gradebook.read(gradebook.results_path(results_dir, sub.id))
        if old is not None and gradebook.matches(old, key) and gradebook.complete(old):
            outcome.skipped.append(sub.id)
        else:
            todo.append((sub, key))
    write_lock = threading.Lock()
    tty = sys.stderr.isatty()
    bar = tqdm(total=len(todo), desc=f"grading {week.name}", unit="sub", disable=not progress or not todo,
               file=sys.stderr, mininterval=0.5 if tty else 30, dynamic_ncols=True)

    def say(text: str) -> None:
        if bar.disable:
            echo(text)
        else:
            bar.write(text, file=sys.stdout)  # above the bar, which stays at the bottom

    with _Stop(write_lock, say) as stop:
        def work(sub: Submission, key: dict) -> tuple[dict, bool]:
            data = grade_submission(repo, week, graders, sub, key, hide)
            if stop.event.is_set() and not gradebook.complete(data):
                return data, False  # perhaps disturbed by the interrupt: graded again next time
            with write_lock:
                write_atomic(data, gradebook.results_path(results_dir, sub.id))
            return data, True

        running: dict[Future, Submission] = {}
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grade-all") as pool:
            while running or (todo and not stop.event.is_set()):
                while todo and not stop.event.is_set() and len(running) < jobs:
                    sub, key = todo.popleft()
                    running[pool.submit(work, sub, key)] = sub
                done, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    sub = running.pop(future)
                    data, written = future.result()
                    if written:
                        outcome.graded.append(sub.id)
                        if data["extra_data"]["batch"].get("error"):
                            outcome.failed.append(sub.id)
                    bar.update(1)
        outcome.interrupted = stop.event.is_set()
    bar.close()
    return outcome


# --- the command ----------------------------------------------------------------------------

def main(*, week: str, submissions: str, jobs: int | None = None, out: str | None = None,
         shard_spec: str | None = None, archive: str | None = None, progress: bool = True,
         repo: Repo | None = None) -> int:
    from .gradebook import write_gradebook

    repo = repo or Repo.here()
    config = load_week(repo, week)
    path = Path(submissions)
    if not path.exists():
        print(f"error: {submissions} does not exist; SUBMISSIONS must be a Gradescope export (zip or "
              "folder), a folder of submissions, or a folder of repositories")
        return 2
    if archive is not None and not Path(archive).is_file():
        print(f"error: {archive} does not exist; ARCHIVE must be a built autograder zip")
        return 2
    out_dir = Path(out) if out else default_out(repo, week)
    # A worker sees its own submission's copy and nothing else the TA handed over: the export with
    # every other submission, the graders' archive, the results of the others.
    if not out_dir.exists():
        out_dir.mkdir(parents=True, mode=0o700)  # private from the start: other students' results
    (out_dir / "results").mkdir(exist_ok=True, mode=0o700)
    handed = [path.resolve(), out_dir.resolve(), *([Path(archive).resolve()] if archive else [])]
    try:
        refuse_if_exposed(repo, handed)
        where = parse_shard(shard_spec)
    except (GradingRefused, ShardError) as e:
        print(f"error: {e}")
        return 2
    if os.geteuid() != 0:
        print("warning: not running as root, so student code runs as you, without the worker user's "
              "separation (see the README's TA guide)")
    elif (jobs or 0) != 1 and not namespaces_available():
        # Two workers of different students alive at once without namespaces share /tmp: one could
        # leave a file there that the other reads before its run's clean-up removes it.
        print("note: grading one submission at a time: without bubblewrap's namespaces, two students' "
              "workers running at once could pass each other files (apt-get install bubblewrap to grade "
              "in parallel)")
        jobs = 1
    with tempfile.TemporaryDirectory(prefix="coursekit-grade-all-") as work:
        try:
            everyone = discover(path, Path(work) / "export")
        except (ExportError, zipfile.BadZipFile) as e:
            print(f"error: {e}")
            return 2
        mine = shard(everyone, *where) if where else everyone
        label = f" (shard {where[0] + 1}/{where[1]}: {len(mine)} of {len(everyone)})" if where else ""
        print(f"grade-all {week}: {len(everyone)} submissions in {path}{label}; results in {out_dir / 'results'}")
        graders = prepare_graders(repo, config, Path(work), Path(archive) if archive else None)
        outcome = grade_all(repo, config, mine, out_dir / "results", graders, jobs=jobs, progress=progress,
                            hide=handed)
        print(f"graded {len(outcome.graded)}, kept {len(outcome.skipped)} already graded"
              + (f"; the batch could not grade {len(outcome.failed)} ({', '.join(outcome.failed[:5])}"
                 f"{', …' if len(outcome.failed) > 5 else ''}): rerun to retry them" if outcome.failed else ""))
        if outcome.interrupted:
            left = len(mine) - len(outcome.graded) - len(outcome.skipped)
            print(f"interrupted: {left} submissions not graded yet; run the same command again to grade "
                  "only those")
            return 130
        if where:
            print(f"shard {where[0] + 1}/{where[1]} done. When every shard has finished: make gradebook "
                  f"HW={week} SUBMISSIONS={submissions}" + (f" OUT={out}" if out else ""))
            return 0
        return write_gradebook(repo, config, everyone, [out_dir / "results"], out_dir, graders.hash)
