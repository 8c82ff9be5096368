"""``make student HW=x``: ``dist/student/x/``, a ready-to-push starter repository (one commit).

It holds the stencil; the handout as ``README.md``, with a generated *Getting started* section
(:mod:`coursekit.authoring.starter_readme`); the public tests; the public part of the engine
(``coursekit/`` without ``coursekit/authoring/``, so the public tests run exactly as the graders
do); the public splits of the bundled data with their checksums
(:mod:`coursekit.authoring.starter_data`); the week's config and public drivers; pinned
requirements; a student ``Makefile`` (install, test, ``TASK=n``, submit, help); a ``conftest.py``
that stops pytest with one line saying what to run when the Python running it lacks a package the
tests need; and ``.github/workflows/classroom.yml`` in GitHub Classroom's format, whose points per
task are the public tests' points. A week with a lab notebook also ships ``lab.ipynb`` (generated
with the stencil), its public otter checks in ``lab_tests/`` and the lab's pinned packages in
``requirements-lab.txt`` (``make lab``, ``make pdf``). Every file is scanned first
(:mod:`coursekit.authoring.leaks`, with every week's hidden-test and known-bad files); any leak
refuses the build and nothing is written.

An existing ``dist/student/x/`` is replaced only when it is an unchanged earlier build (one commit,
a clean tree); otherwise the command refuses, so a TA's work there is never lost.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import tempfile
from pathlib import Path, PurePosixPath

from ...config import WeekConfig, load_week
from ...paths import Repo
from .. import leaks, starter_data, starter_readme, week_checks
from ..notebooks import LAB_NOTEBOOK, LAB_TESTS, lab_tests_dir
from .autograder import STARTER_REQUIREMENTS, engine_files, files_under, requirements

COMMIT_MESSAGE = "Starter code for week {week}: {title}"
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
#: What the lab notebook needs beyond the graders' packages (pinned as in pyproject.toml).
LAB_REQUIREMENTS = ("matplotlib", "tqdm", "otter-grader", "jupyterlab")

STUDENT_MAKEFILE = """\
# Your starter repository's commands (`make help` lists them). Needs Python 3.11+ with venv, and make.
PYTHON ?= python3
VENV ?= .venv
# torch's CPU build (PyPI's Linux build brings gigabytes of CUDA libraries); empty it to use PyPI only.
PIP_EXTRA ?= --extra-index-url {index}
PY := $(VENV)/bin/python
TASK ?=

.DEFAULT_GOAL := test
.PHONY: help install test submit lab pdf

help: ## list the commands
\t@awk 'BEGIN {{FS = ":.*## "}} /^[a-z]+:.*## / {{printf "  make %-8s %s\\n", $$1, $$2}}' $(MAKEFILE_LIST)

$(VENV)/.installed: requirements.txt
\t@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || {{ \\
\t  echo "error: the course needs Python 3.11 or newer with venv; $(PYTHON) is $$($(PYTHON) --version 2>&1)."; \\
\t  echo "Install one, then run: make install PYTHON=python3.11"; exit 1; }}
\t$(PYTHON) -m venv $(VENV)
\t$(PY) -m pip install --quiet -r requirements.txt $(PIP_EXTRA)
\t@touch $@

install: $(VENV)/.installed ## create .venv with the graders' exact package versions

test: $(VENV)/.installed ## run the public tests (one task: make test TASK=3)
\t$(PY) -m pytest $(if $(TASK),--task $(TASK))

submit: $(VENV)/.installed ## check your files and build submission.zip for Gradescope
\t$(PY) -m coursekit.submit

$(VENV)/.lab-installed: $(VENV)/.installed requirements-lab.txt
\t$(PY) -m pip install --quiet -r requirements-lab.txt $(PIP_EXTRA)
\t@touch $@

lab: $(VENV)/.lab-installed ## open the lab notebook in JupyterLab (installs Jupyter on first use)
\t$(PY) -m jupyter lab lab.ipynb

pdf: $(VENV)/.lab-installed ## lab.pdf, the lab's written answers for Gradescope (save the notebook first)
\t$(PY) -m coursekit.lab pdf lab.ipynb
"""

CONFTEST = '''\
"""Loads the course's pytest plugin (the `submission` fixture, task markers and feedback), once this
Python has the packages the public tests need; otherwise pytest stops with one line saying what to do."""

import importlib
import importlib.metadata
import sys

import pytest

#: The packages this week's tests and files import, at the graders' versions (requirements.txt).
NEEDED = {needed!r}
HOW = ("run `make test` (it runs `make install` first), or activate the environment "
       "(`source .venv/bin/activate`) and run pytest again")


def _missing():
    missing = []
    for name in NEEDED:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


MISSING = _missing()
if MISSING:
    def pytest_addoption(parser):
        parser.addoption("--task", help="run only the tests of this task")  # so that it reaches the line below

    def pytest_configure(config):
        raise pytest.UsageError(f"this Python ({{sys.executable}}) has no {{' or '.join(MISSING)}}, "
                                f"which the public tests need: {{HOW}}")
else:
    pytest_plugins = ["coursekit.plugin"]


def pytest_report_header(config):
    """A line when a package differs from the graders' version: results may differ from theirs."""
    other = []
    for name, version in NEEDED.items():
        try:
            found = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        if found.split("+")[0] != version:
            other.append(f"{{name}} {{found}} (graders: {{version}})")
    if other:
        return f"note: this Python has {{', '.join(other)}}; `make test` tests with the graders' versions"
    return None
'''

PYTEST_INI = """\
[pytest]
testpaths = tests
week_config = week.toml
submission = .
public_dirs = tests
"""

GITIGNORE = """\
.venv/
__pycache__/
*.pyc
.pytest_cache/
submission.zip
.DS_Store
.ipynb_checkpoints/
.OTTER_LOG
lab.pdf
"""


class StarterError(RuntimeError):
    """The starter cannot be built or written; the message says why and what to do."""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def public_points(repo: Repo, week: WeekConfig) -> dict[int, float]:
    """Each task's public points: the points of its tests in ``assignments/<week>/tests/``
    (collected, not run). Raises :class:`StarterError` when a public test file does not load."""
    listing = week_checks.collect(repo, week, hidden=False)
    if listing["collection_errors"]:
        raise StarterError(f"the public tests do not load: {'; '.join(map(str, listing['collection_errors']))}")
    points: dict[int, float] = {}
    for test in listing["tests"]:
        points[test["task"]] = points.get(test["task"], 0.0) + test["points"]
    return points


def classroom_workflow(week: WeekConfig, public: dict[int, float]) -> str:
    """GitHub Classroom's autograding workflow: one command-grader step per task with public tests,
    then the reporter.

    A step passes on exit code 0 and then scores its ``max-score``, so each task gives all or none
    of its public tests' points (``public``, by task number); the total is the public tests' total,
    not the week's. This is feedback only: grades come from Gradescope. Raises
    :class:`StarterError` when a task's public points are not whole (the command grader counts
    whole points only).
    """
    lines = [
        "name: Autograding Tests",
        "'on':",
        "- push",
        "- repository_dispatch",
        "permissions:",
        "  checks: write",
        "  actions: read",
        "  contents: read",
        "jobs:",
        "  run-autograding-tests:",
        "    runs-on: ubuntu-latest",
        "    if: github.actor != 'github-classroom[bot]'",
        "    steps:",
        "    - name: Checkout code",
        "      uses: actions/checkout@v4",
        "    - name: Set up Python",
        "      uses: actions/setup-python@v5",
        "      with:",
        "        python-version: '3.11'",
        "    - name: Install the graders' packages",
        f"      run: python -m pip install -r requirements.txt --extra-index-url {TORCH_INDEX}",
    ]
    ids = []
    for task in week.tasks:
        points = public.get(task.number, 0.0)
        if not points:
            continue  # nothing to run: `pytest --task n` would fail for want of tests
        if points != int(points):
            raise StarterError(f"task {task.number}'s public tests carry {points:g} points; GitHub Classroom's "
                               "command grader counts whole points only, so give them whole points")
        step = f"task-{task.number}"
        ids.append(step)
        name = f"Task {task.number}: {task.title}"
        lines += [
            f"    - name: {_quote(name)}",
            f"      id: {step}",
            "      uses: classroom-resources/autograding-command-grader@v1",
            "      with:",
            f"        test-name: {_quote(name)}",
            "        setup-command: ''",
            f"        command: python -m pytest -q --task {task.number}",
            f"        timeout: {max(1, int(week.budget.test_timeout_seconds // 60) + 5)}",
            f"        max-score: {int(points)}",
        ]
    lines += [
        "    - name: Autograding Reporter",
        "      uses: classroom-resources/autograding-grading-reporter@v1",
        "      env:",
    ]
    lines += [f"        {step.upper()}_RESULTS: \"${{{{steps.{step}.outputs.result}}}}\"" for step in ids]
    lines += ["      with:", f"        runners: {','.join(ids)}", ""]
    return "\n".join(lines)


def needed_packages(files: dict[str, bytes], pinned: str) -> dict[str, str]:
    """The pinned packages (``name==version`` lines of ``pinned``) that the starter's Python files
    import, and numpy, which the engine needs: ``{name: version}``."""
    pins = dict(line.split("==", 1) for line in pinned.splitlines() if "==" in line)
    imported = {"numpy", "pytest"}
    for name, data in files.items():
        if PurePosixPath(name).suffix != ".py" or name.startswith("coursekit/"):
            continue
        for node in ast.walk(ast.parse(data, name)):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    return {name: version for name, version in pins.items() if name in imported}


def contents(repo: Repo, week: WeekConfig) -> dict[str, bytes]:
    """Every file of the starter, by its path in the repository. Raises :class:`StarterError` when
    the public tests do not load or the bundled data cannot ship as declared."""
    files: dict[str, bytes] = {}
    for rel, data in files_under(repo.stencil(week.name), "").items():
        files[rel.lstrip("/")] = data
    files.update(files_under(repo.public_tests(week.name), "tests"))
    files.update(engine_files("coursekit"))
    try:
        data = starter_data.starter_files(repo.datasets)
    except starter_data.DataError as e:
        raise StarterError(str(e)) from None
    files.update((f"datasets/{rel}", content) for rel, content in data.items())
    files["week.toml"] = repo.config_path(week.name).read_bytes()
    if repo.drivers(week.name).is_file():
        files["drivers.py"] = repo.drivers(week.name).read_bytes()
    pinned = requirements(repo, STARTER_REQUIREMENTS)
    files["requirements.txt"] = pinned.encode()
    if LAB_NOTEBOOK in files:
        files.update(files_under(lab_tests_dir(repo, week.name), LAB_TESTS))
        files["requirements-lab.txt"] = requirements(repo, LAB_REQUIREMENTS).encode()
    files["Makefile"] = STUDENT_MAKEFILE.format(index=TORCH_INDEX).encode()
    files["conftest.py"] = CONFTEST.format(needed=needed_packages(files, pinned)).encode()
    files["pytest.ini"] = PYTEST_INI.encode()
    files[".gitignore"] = GITIGNORE.encode()
    public = public_points(repo, week)
    files[".github/workflows/classroom.yml"] = classroom_workflow(week, public).encode()
    handout = repo.handout(week.name).read_text(encoding="utf-8")
    files["README.md"] = starter_readme.readme(handout, week, public, pinned).encode()
    return dict(sorted(files.items()))


def validate(files: dict[str, bytes], repo: Repo, week: WeekConfig) -> list[str]:
    """Problems that make a starter unfit for students (empty when it is clean): a leak of this
    week's reference, hidden tests or known-bad submissions, or a copy of any week's hidden-test or
    known-bad file or a line of its held-out data, private folders, litter."""
    secrets = leaks.collect(repo, week, hidden_tests=True)
    private = starter_data.private_data(repo)
    secrets.digests = {**private.digests, **secrets.digests}
    secrets.lines = {**private.lines, **secrets.lines}
    problems = leaks.scan(files, secrets, litter=True)
    for name in files:
        top = name.split("/")[0]
        if top in ("solutions", "autograder", "known_bad") or "known_bad" in name or name.endswith("expected.toml"):
            problems.append(f"{name}: private course material")
    return problems


def _git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise StarterError(f"git {' '.join(args)} failed in {folder}: {done.stderr.strip()}")
    return done.stdout


def _replaceable(target: Path) -> bool:
    """An earlier, untouched build: one commit of ours and a clean tree."""
    if not (target / ".git").is_dir():
        return False
    try:
        log = _git(target, "log", "--format=%s").splitlines()
        status = _git(target, "status", "--porcelain")
    except StarterError:
        return False
    return len(log) == 1 and log[0].startswith("Starter code for week") and not status.strip()


def write_repository(files: dict[str, bytes], week: WeekConfig, target: Path) -> Path:
    if target.exists() and not _replaceable(target):
        raise StarterError(f"{target} exists and is not an unchanged earlier build (it has other commits "
                           "or changes); move it away or delete it, then run `make student` again")
    staging = Path(tempfile.mkdtemp(prefix=f"starter-{week.name}-", dir=target.parent))
    try:
        for name, data in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        _git(staging, "init", "-q", "-b", "main")
        _git(staging, "add", "-A")
        _git(staging, "-c", "user.name=Course staff", "-c", "user.email=staff@example.invalid",
             "commit", "-q", "-m", COMMIT_MESSAGE.format(week=week.week, title=week.title))
        if target.exists():
            shutil.rmtree(target)
        staging.chmod(0o755)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def prepare(repo: Repo, week: WeekConfig, target: Path | None = None) -> tuple[dict[str, bytes], Path]:
    """The starter's files and where they go, after every check that can refuse (a leak, an edited
    earlier build in the way); writes nothing."""
    target = target or repo.dist / "student" / week.name
    files = contents(repo, week)
    problems = validate(files, repo, week)
    if problems:
        raise StarterError("refusing to write the starter: " + "; ".join(problems))
    if target.exists() and not _replaceable(target):
        raise StarterError(f"{target} exists and is not an unchanged earlier build (it has other commits "
                           "or changes); move it away or delete it, then run the command again")
    return files, target


def build(repo: Repo, week: WeekConfig, target: Path | None = None) -> Path:
    files, target = prepare(repo, week, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_repository(files, week, target)


def main(*, week: str, repo: Repo | None = None) -> int:
    repo = repo or Repo.here()
    config = load_week(repo, week)
    try:
        target = build(repo, config)
    except StarterError as e:
        print(f"error: {e}")
        return 1
    count = sum(1 for p in target.rglob("*") if p.is_file() and ".git" not in p.relative_to(target).parts)
    print(f"wrote {target}: a git repository with one commit, {count} files, validated (no leak)")
    print(f"push it as a template repository: cd {target} && git remote add origin <url> && git push -u origin main")
    return 0
