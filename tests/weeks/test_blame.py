"""Points follow the code at fault. Week 2's container is graded with the course's stand-in layers,
so a mistake in a layer costs only the layer's task; a test that cannot do without another task's
code (training needs the layers, week 3's training needs build_model's network) names the upstream
task that fails; and no student mistake is ever a grader error."""

from __future__ import annotations

import pytest

from coursekit.authoring import known_bad
from coursekit.authoring.commands.grade import grade
from coursekit.config import load_week
from coursekit.paths import Repo

REPO = Repo.here()
WEEK = "backprop"
pytestmark = pytest.mark.slow


def _grade(tmp_path, changes: list[tuple[str, str]], week: str = WEEK, file: str = "backprop.py") -> dict:
    """Grade the reference of ``week`` with ``changes`` (old, new) applied to ``file``."""
    config = load_week(REPO, week)
    bad = known_bad.KnownBad("example", tmp_path / "expected.toml", "example",
                             tuple((file, old, new) for old, new in changes))
    folder = known_bad.materialize(bad, REPO.solution(week), config, tmp_path / "submission")
    results = grade(REPO, config, folder, tmp_path / "results.json", quiet=True)
    assert not [t["name"] for t in results["tests"] if t["extra_data"].get("grader_error")]
    return results


def _task(results: dict, number: int) -> list[dict]:
    return [t for t in results["tests"] if t["number"].split(".")[0] == str(number)]


def _lost(results: dict, number: int) -> float:
    return sum(t["max_score"] - t["score"] for t in _task(results, number))


def test_a_linear_without_parameters_costs_task_2_not_the_container(tmp_path):
    """Linear's given parameters() deleted (Linear falls back to Layer's empty list): the container
    keeps its 8 points, task 2 says what is wrong, and training names task 2."""
    results = _grade(tmp_path, [('    def parameters(self) -> list[Pair]:\n'
                                 '        """``[(W, dW), (b, db)]``: the arrays themselves, not copies."""\n'
                                 '        return [(self.W, self.dW), (self.b, self.db)]\n', '')])
    assert _lost(results, 6) == 0
    failed = [t for t in _task(results, 2) if t["score"] < t["max_score"]]
    assert [t["output"] for t in failed] and all("Linear.parameters()" in t["output"] for t in failed)
    training = [t for t in _task(results, 10) if t["score"] < t["max_score"]]
    assert training and all("Task 2 (Linear layer): Linear.parameters()" in t["output"] for t in training)


def test_an_exception_in_linear_backward_costs_the_container_nothing(tmp_path):
    """A ValueError in Linear.backward (it cost task 6 seven of its eight points): task 6 loses
    nothing; every test that meets it names Linear.backward; training names task 2."""
    results = _grade(tmp_path, [("        self.dW[...] = self.x.T @ dout\n",
                                 '        raise ValueError("shapes do not match")\n')])
    assert _lost(results, 6) == 0
    for t in _task(results, 2) + _task(results, 10):
        if t["score"] < t["max_score"] and not t["extra_data"]["public"]:
            assert "ValueError at backprop.py line" in t["output"] and "(in Linear.backward)" in t["output"]
    training = [t for t in _task(results, 10) if t["score"] < t["max_score"]]
    assert len(training) == 5 and all("Task 2 (Linear layer)" in t["output"] for t in training)


def test_a_wrong_softmax_gradient_is_named_by_the_training_tests(tmp_path):
    """The softmax gradient not divided by N: training still loses its accuracy points, and now
    says why ("held-out digits accuracy 0.103" alone gave no hint)."""
    results = _grade(tmp_path, [("        return dlogits / len(self.labels)\n", "        return dlogits\n")])
    digits = [t for t in _task(results, 10) if "digits" in t["name"]][0]
    assert digits["score"] == 0 and "held-out digits accuracy" in digits["output"]
    assert "Task 5 (Softmax cross-entropy): SoftmaxCrossEntropy" in digits["output"]
    assert "Task 2" not in digits["output"] and "Task 6" not in digits["output"]


def test_week_3_training_names_a_broken_build_model(tmp_path):
    """build_model's read-out sized for the wrong feature map: task 5 fails, and the training tests,
    which train that network, say that task 5 is the cause."""
    results = _grade(tmp_path, [("nn.Linear(32 * 2 * 2, 10),", "nn.Linear(32 * 4 * 4, 10),")], "cnn", "cnn.py")
    assert _lost(results, 5) > 0 and all(_lost(results, task) == 0 for task in (1, 2, 3, 4))
    training = [t for t in _task(results, 6) if t["score"] < t["max_score"]]
    assert training and all("Task 5 (Design a CNN)" in t["output"] for t in training)
