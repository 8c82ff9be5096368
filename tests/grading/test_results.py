"""results.json validation: what Gradescope would reject or misread is refused before writing."""

from __future__ import annotations

import json

import pytest

from coursekit.grading import results as results_mod
from coursekit.grading.results import InvalidResults


def good() -> dict:
    return {"score": 1.5, "tests": [{"name": "a", "score": 1.5, "max_score": 2, "status": "failed",
                                     "visibility": "visible", "number": "1.1", "tags": ["x"]}],
            "leaderboard": [{"name": "acc", "value": 0.9, "order": "desc"}]}


@pytest.mark.parametrize("mutate, problem", [
    (lambda r: r.update(score=3), "not the sum"),
    (lambda r: r["tests"][0].update(visibility="secret"), "visibility"),
    (lambda r: (r["tests"][0].update(score=5), r.update(score=5)), "exceeds max_score"),
    (lambda r: r["tests"][0].update(number=1.1), "number"),
    (lambda r: r.update(bogus=1), "must not contain"),
    (lambda r: r["leaderboard"][0].update(order="up"), "order"),
    (lambda r: r["tests"][0].update(score=float("nan"), max_score=float("nan")), "NaN|number|sum|not JSON compliant"),
])
def test_invalid_results_are_refused(mutate, problem, tmp_path):
    data = good()
    mutate(data)
    with pytest.raises((InvalidResults, ValueError), match=problem):
        results_mod.write_atomic(data, tmp_path / "results.json")
    assert not (tmp_path / "results.json").exists()


def test_valid_results_are_written_atomically(tmp_path):
    path = tmp_path / "results.json"
    results_mod.write_atomic(good(), path)
    assert json.loads(path.read_text()) == good()
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_long_output_keeps_head_and_tail():
    text = "a" * 60_000 + "b" * 60_000
    clipped = results_mod.clip(text)
    assert len(clipped) <= results_mod.MAX_OUTPUT_CHARS
    assert clipped.startswith("a") and clipped.endswith("b") and "shortened" in clipped


def test_each_test_records_its_task_for_the_gradebook():
    from coursekit.grading.records import GradingState, TestRecord

    state = GradingState()
    for i, (task, number) in enumerate([(2, "2.1"), (None, None), (3, "custom")]):
        rec = TestRecord(f"tests/hidden/test_x.py::test_{i}", f"t{i}", task, 1.0, "visible", number, [], False,
                         order=i, outcome="passed")
        state.records[rec.nodeid] = rec
    tests = results_mod.build(state)["tests"]
    assert [t["extra_data"]["task"] for t in tests] == [2, 3, None]
