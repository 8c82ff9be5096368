"""Fixtures shared by the project's tests.

``isolation_mode`` runs a test once per way the worker can be isolated as root: under bubblewrap's
namespaces, and as the worker user alone (``COURSEKIT_NAMESPACES=0``), which is how Gradescope's
containers grade. A defence that holds in one mode only does not hold, so the adversarial suite and
the week measurement tests take it.
"""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["pytester"]

MODES = ("namespaces", "worker user")


@pytest.fixture(params=MODES)
def isolation_mode(request, monkeypatch) -> str:
    """The isolation this test's gradings use: ``"namespaces"``, ``"worker user"``, or (not root,
    where both are the same) ``"session"``, run once."""
    from coursekit.grading.isolation import ENV_SWITCH, namespaces_available

    if os.geteuid() != 0:
        if request.param != MODES[0]:
            pytest.skip("not root: the worker runs in a process session in either mode")
        return "session"
    if request.param == "worker user":
        monkeypatch.setenv(ENV_SWITCH, "0")
        return request.param
    monkeypatch.delenv(ENV_SWITCH, raising=False)
    if not namespaces_available():
        pytest.skip("bubblewrap cannot make namespaces here")
    return request.param


@pytest.fixture
def grade_week(isolation_mode):
    """``grade_week(week, submission_folder, results_path)``: a week graded through the one grading
    path in this test's isolation mode. With namespaces, as ``make grade`` grades (the checkout
    hidden from the worker); as the worker user, as Gradescope grades: the week's autograder zip in
    a private Gradescope tree, no checkout named (in a container there is none; on a development
    machine the checkout may be world-readable, which ``make grade`` refuses in this mode)."""
    from coursekit.authoring.commands.autograder import contents
    from coursekit.authoring.commands.grade import grade, grade_tree
    from coursekit.config import load_week
    from coursekit.paths import Repo

    repo = Repo.here()

    def run(week: str, folder, results) -> dict:
        config = load_week(repo, week)
        if isolation_mode == "worker user":
            return grade_tree(contents(repo, config), config, folder, results, quiet=True)
        return grade(repo, config, folder, results, quiet=True)

    return run


@pytest.fixture
def checkout_copy():
    """A world-searchable folder for a copy of the checkout (``toyweek.private_copy``) and what a TA
    hands to a command, removed after. It lies outside the temporary folders, which the worker's
    namespaces replace with empty ones anyway, as a TA's course folder would (``/srv``, ``/opt``)."""
    import shutil
    import tempfile
    from pathlib import Path

    parent = next((p for p in ("/srv", "/opt", "/var/lib", "/mnt") if os.path.isdir(p)
                   and os.stat(p).st_mode & 0o001 and os.access(p, os.W_OK)), None)
    folder = Path(tempfile.mkdtemp(prefix="coursekit-course-copy-", dir=parent))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
