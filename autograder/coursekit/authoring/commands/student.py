"""``make student HW=x``: ``dist/student/x/``, a ready-to-push starter repository (one commit).

It holds the stencil, the handout as ``README.md``, the public tests, the public part of the engine
(``coursekit/`` without ``coursekit/authoring/``, so the public tests run exactly as the graders
do), the week's config and public drivers, pinned requirements, a student ``Makefile`` (install, test, ``TASK=n``, submit), and
``.github/workflows/classroom.yml`` in GitHub Classroom's format. A week with a lab notebook also ships
``lab.ipynb`` (generated with the stencil), its public otter checks in ``lab_tests/`` and the lab's
pinned packages in ``requirements-lab.txt`` (``make lab``, ``make pdf``). Every file is scanned first
(:mod:`coursekit.leaks`); any leak refuses the build and nothing is written.

An existing ``dist/student/x/`` is replaced only when it is an unchanged earlier build (one commit,
a clean tree); otherwise the command refuses, so a TA's work there is never lost.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from .. import leaks
from ..notebooks import LAB_NOTEBOOK, LAB_TESTS, lab_tests_dir
from ...config import WeekConfig, load_week
from ...paths import Repo
from .autograder import files_under, engine_files, requirements

COMMIT_MESSAGE = "Starter code for week {week}: {title}"
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
#: What the lab notebook needs beyond the graders' packages (pinned as in pyproject.toml).
LAB_REQUIREMENTS = ("matplotlib", "tqdm", "otter-grader", "jupyterlab")

STUDENT_MAKEFILE = """\
# Your starter repository's commands. Needs Python 3.11+ with venv, and make.
PYTHON ?= python3
VENV ?= .venv
# torch's CPU build (PyPI's Linux build brings gigabytes of CUDA libraries); empty it to use PyPI only.
PIP_EXTRA ?= --extra-index-url {index}
PY := $(VENV)/bin/python
TASK ?=

.DEFAULT_GOAL := test
.PHONY: install test submit lab pdf

$(VENV)/.installed: requirements.txt
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
"""Loads the course's pytest plugin: the `submission` fixture, task markers and feedback."""

pytest_plugins = ["coursekit.plugin"]
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


def classroom_workflow(week: WeekConfig) -> str:
    """GitHub Classroom's autograding workflow: one command-grader step per task, then the reporter.

    Steps pass on exit code 0, so each task's public tests give all or none of its points here;
    this is feedback only, grades come from Gradescope.
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
            f"        max-score: {int(round(task.points))}",
        ]
    lines += [
        "    - name: Autograding Reporter",
        "      uses: classroom-resources/autograding-grading-reporter@v1",
        "      env:",
    ]
    lines += [f"        {step.upper()}_RESULTS: \"${{{{steps.{step}.outputs.result}}}}\"" for step in ids]
    lines += ["      with:", f"        runners: {','.join(ids)}", ""]
    return "\n".join(lines)


def contents(repo: Repo, week: WeekConfig) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for rel, data in files_under(repo.stencil(week.name), "").items():
        files[rel.lstrip("/")] = data
    files["README.md"] = repo.handout(week.name).read_bytes()
    files.update(files_under(repo.public_tests(week.name), "tests"))
    files.update(engine_files("coursekit"))
    files.update(files_under(repo.datasets, "datasets"))  # what coursekit.data loads (the handouts say so)
    files["week.toml"] = repo.config_path(week.name).read_bytes()
    if repo.drivers(week.name).is_file():
        files["drivers.py"] = repo.drivers(week.name).read_bytes()
    files["requirements.txt"] = requirements(repo).encode()
    if LAB_NOTEBOOK in files:
        files.update(files_under(lab_tests_dir(repo, week.name), LAB_TESTS))
        files["requirements-lab.txt"] = requirements(repo, LAB_REQUIREMENTS).encode()
    files["Makefile"] = STUDENT_MAKEFILE.format(index=TORCH_INDEX).encode()
    files["conftest.py"] = CONFTEST.encode()
    files["pytest.ini"] = PYTEST_INI.encode()
    files[".gitignore"] = GITIGNORE.encode()
    files[".github/workflows/classroom.yml"] = classroom_workflow(week).encode()
    return dict(sorted(files.items()))


def validate(files: dict[str, bytes], repo: Repo, week: WeekConfig) -> list[str]:
    """Problems that make a starter unfit for students (empty when it is clean)."""
    problems = leaks.scan(files, leaks.collect(repo, week, hidden_tests=True), litter=True)
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
