"""The Gradescope package: reproducible, leak-free, and graded through run_autograder exactly as
Gradescope would (unpacked into a folder laid out like /autograder, the project's environment
standing in for setup.sh)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from coursekit.authoring.commands.autograder import LeakError, build, contents, requirements
from coursekit.config import load_week
from coursekit.grading import results as results_mod
from coursekit.paths import Repo

REPO = Repo.here()
WEEK = "perceptron"
CONFIG = load_week(REPO, WEEK)
pytestmark = pytest.mark.slow


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_two_builds_are_byte_identical(tmp_path):
    first = build(REPO, CONFIG, tmp_path / "a.zip")
    second = build(REPO, CONFIG, tmp_path / "b.zip")
    assert sha(first) == sha(second)
    with zipfile.ZipFile(first) as z:
        names = z.namelist()
        assert names == sorted(names)
        assert {"setup.sh", "run_autograder", "requirements.txt", "week.toml"} <= set(names)
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in z.infolist())
        assert (z.getinfo("run_autograder").external_attr >> 16) & 0o777 == 0o755


def test_the_archive_holds_no_solution_and_no_known_bad():
    names = contents(REPO, CONFIG)
    assert not any(n.startswith(("solutions", "known_bad")) or "/known_bad/" in n for n in names)
    assert not any(n.endswith((".pyc",)) or "__pycache__" in n for n in names)
    assert not any("coursekit/authoring" in n for n in names)


def test_requirements_are_the_pyproject_pins():
    pins = set(tomllib.loads((REPO.root / "pyproject.toml").read_text())["project"]["dependencies"])
    lines = set(requirements(REPO).split())
    assert lines <= pins and any(line.startswith("torch==") for line in lines)


def _copy_repo(tmp_path: Path) -> Repo:
    for name in ("assignments", "solutions", "stencils", "datasets", "gradescope"):
        shutil.copytree(REPO.root / name, tmp_path / name, ignore=shutil.ignore_patterns("build", "__pycache__"))
    shutil.copytree(REPO.hidden_tests(WEEK), tmp_path / "autograder" / WEEK / "tests",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO.root / "pyproject.toml", tmp_path)
    return Repo(tmp_path)


def _solution_line() -> str:
    source = (REPO.solution(WEEK) / "perceptron.py").read_text().splitlines()
    start = next(i for i, line in enumerate(source) if "BEGIN SOLUTION" in line and i > 0)
    return next(line for line in source[start + 1:] if len(line.strip()) >= 30)


@pytest.mark.parametrize("plant", ["line", "copy", "marker"])
def test_a_planted_leak_refuses_the_build(tmp_path, plant):
    repo = _copy_repo(tmp_path)
    target = repo.hidden_tests(WEEK) / "test_hidden_planted.py"
    if plant == "line":
        target.write_text(f"def helper():\n{_solution_line()}\n")
    elif plant == "copy":
        shutil.copy(repo.solution(WEEK) / "perceptron.py", target)
    else:
        target.write_text("# ### BEGIN SOLUTION\n")
    with pytest.raises(LeakError, match="tests/hidden/test_hidden_planted.py"):
        build(repo, CONFIG, tmp_path / "out.zip")
    assert not (tmp_path / "out.zip").exists()


# --- simulation ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    return build(REPO, CONFIG, tmp_path_factory.mktemp("zip") / f"{WEEK}.zip")


def run_autograder(archive: Path, base: Path, submission: dict[str, str | bytes], venv: str = sys.prefix,
                   deadline: int = 300, edit=None) -> dict:
    root = base / "autograder"
    with zipfile.ZipFile(archive) as z:
        z.extractall(root / "source")
    if edit is not None:
        edit(root / "source")
    (root / "submission").mkdir()
    for name, data in submission.items():
        path = root / "submission" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    env = {"PATH": os.environ["PATH"], "AUTOGRADER_ROOT": str(root), "COURSEKIT_VENV": venv,
           "COURSEKIT_DEADLINE_SECONDS": str(deadline), "HOME": str(base)}
    if "COURSEKIT_DEVICE" in os.environ:
        env["COURSEKIT_DEVICE"] = os.environ["COURSEKIT_DEVICE"]
    script = root / "source" / "run_autograder"
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=deadline + 60)
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    results_mod.validate(results)
    return results


def test_reference_scores_full_marks(archive, tmp_path):
    reference = (REPO.solution(WEEK) / "perceptron.py").read_text()
    results = run_autograder(archive, tmp_path, {"perceptron.py": reference})
    assert results["score"] == CONFIG.total_points
    assert results["extra_data"]["device"] == "cpu" and "python" in results["extra_data"]


def test_untouched_stencil_scores_zero(archive, tmp_path):
    results = run_autograder(archive, tmp_path, {"perceptron.py": (REPO.stencil(WEEK) / "perceptron.py").read_text()})
    assert results["score"] == 0 and len(results["tests"]) > 20
    assert not any(t["extra_data"]["grader_error"] for t in results["tests"])


@pytest.mark.parametrize("files, message", [
    ({"notes.txt": "I forgot the code"}, "missing perceptron.py"),
    ({"perceptron.py": "def predict(:\n"}, "SyntaxError"),
])
def test_malformed_submission_scores_zero_with_a_message(archive, tmp_path, files, message):
    results = run_autograder(archive, tmp_path, files)
    assert results["score"] == 0
    assert all(message in t["output"] for t in results["tests"])


def _fake_venv(tmp_path: Path, body: str) -> str:
    venv = tmp_path / "fake-venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(f"#!/usr/bin/env bash\n{body}\n")
    python.chmod(0o755)
    return str(venv)


def test_python_that_cannot_start_leaves_the_prebuilt_fallback(archive, tmp_path):
    results = run_autograder(archive, tmp_path, {"perceptron.py": "x = 1\n"},
                             venv=_fake_venv(tmp_path, "echo 'Segmentation fault' >&2; exit 139"))
    assert results["score"] == 0 and results["tests"] == []
    assert "did not finish" in results["output"]


def test_a_crashing_grader_leaves_the_fallback_with_a_message(archive, tmp_path):
    def break_the_config(source: Path) -> None:
        (source / "week.toml").write_text("this is not toml = = =\n")

    results = run_autograder(archive, tmp_path, {"perceptron.py": "x = 1\n"}, edit=break_the_config)
    assert results["score"] == 0 and results["tests"] == []
    assert "could not produce valid results" in results["output"]
    assert results["extra_data"]["grading_run"]["grader"].startswith("crashed")


def test_an_overrunning_grader_is_stopped_and_the_fallback_stands(archive, tmp_path):
    # Importing it takes a minute: far past the 2-second deadline on any machine.
    slow = (REPO.solution(WEEK) / "perceptron.py").read_text() + "\nimport time\ntime.sleep(60)\n"
    started = time.monotonic()
    results = run_autograder(archive, tmp_path, {"perceptron.py": slow}, deadline=2)
    assert results["score"] == 0 and "longer than the 2-second limit" in results["output"]
    assert time.monotonic() - started < 30


def test_forced_cpu_grading_records_the_device(archive, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_DEVICE", "cpu")
    reference = (REPO.solution(WEEK) / "perceptron.py").read_text()
    results = run_autograder(archive, tmp_path, {"perceptron.py": reference})
    assert results["extra_data"]["device"] == "cpu"


# --- static checks of the scripts --------------------------------------------------------------

SCRIPTS = ["gradescope/run_autograder", "gradescope/setup.sh", ".ci/run"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_shell_scripts_parse_and_pass_shellcheck(script):
    path = REPO.root / script
    assert subprocess.run(["bash", "-n", str(path)]).returncode == 0
    shellcheck = Path(sys.prefix) / "bin" / "shellcheck"
    done = subprocess.run([str(shellcheck), str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_dockerfile_passes_hadolint_and_keeps_gradescopes_entrypoint():
    dockerfile = REPO.root / "gradescope" / "Dockerfile"
    text = dockerfile.read_text()
    assert "FROM gradescope/autograder-base:" in text and ":latest" not in text
    assert not any(line.startswith(("CMD", "ENTRYPOINT")) for line in text.splitlines())
    hadolint = Path(sys.prefix) / "bin" / "hadolint"
    done = subprocess.run([str(hadolint), str(dockerfile)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_release_refuses_a_leak_before_any_slow_step(tmp_path, capsys):
    from coursekit.authoring.commands.release import main as release

    repo = _copy_repo(tmp_path)
    (repo.hidden_tests(WEEK) / "test_hidden_perceptron_planted.py").write_text(
        f"def helper():\n{_solution_line()}\n")
    assert release(week=WEEK, repo=repo) == 1
    out = capsys.readouterr().out
    assert "make release HW=perceptron: REFUSED" in out and "2/4 verify" not in out
    assert not (repo.dist / "gradescope").exists() and not (repo.dist / "student").exists()
