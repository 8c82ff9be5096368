"""Leak scans find the reference's solution lines in whatever ships, whether or not its markers were
recognised: the example from the report (`### Begin Solution` / `### End Solution` around predict,
starter line 29 = the reference's `scores = X @ w + b`), solution lines pasted with no marker at all
into a handout or a public test, and no false positive on any real week's starter or zip."""

from __future__ import annotations

import json
import shutil
import textwrap

import pytest

from coursekit.authoring import leaks, notebooks
from coursekit.authoring.commands import autograder, student
from coursekit.config import load_week
from coursekit.paths import Repo

REPO = Repo.here()
WEEK = "perceptron"
CONFIG = load_week(REPO, WEEK)
STUB = ('    # TODO perceptron task 1 (predict): Predict with a linear classifier\n'
        '    raise NotImplementedError("perceptron task 1 (predict) is not implemented yet")\n')
MISSPELT_REGION = ("    ### Begin Solution\n"
                   "    scores = X @ w + b  # (n,)\n"
                   "    return np.where(scores >= 0, 1, -1).astype(np.int64)\n"
                   "    ### End Solution\n")
REFERENCE_29 = "solutions/perceptron/perceptron.py:29: 'scores = X @ w + b  # (n,)'"


def leaky_stencil() -> bytes:
    """The stencil `make stencils` wrote from the misspelt reference before markers were checked:
    predict's region kept whole, its markers as comments (line 28 is the misspelt BEGIN)."""
    text = (REPO.stencil(WEEK) / "perceptron.py").read_text()
    assert text.count(STUB) == 1
    leaky = text.replace(STUB, MISSPELT_REGION)
    assert leaky.splitlines()[28] == "    scores = X @ w + b  # (n,)"
    return leaky.encode()


@pytest.fixture
def misspelt(tmp_path) -> Repo:
    """A copy of the repository whose perceptron reference has the report's misspelt markers and
    whose committed stencil is what the old generator made of it."""
    for folder in ("assignments/perceptron", "solutions/perceptron", "stencils/perceptron",
                   "autograder/perceptron", "autograder/coursekit", "datasets", "gradescope"):
        shutil.copytree(REPO.root / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__", "build"))
    shutil.copy(REPO.root / "pyproject.toml", tmp_path)
    reference = tmp_path / "solutions/perceptron/perceptron.py"
    lines = reference.read_text().splitlines(keepends=True)
    lines[27], lines[30] = "    ### Begin Solution\n", "    ### End Solution\n"
    reference.write_text("".join(lines))
    (tmp_path / "stencils/perceptron/perceptron.py").write_bytes(leaky_stencil())
    return Repo(tmp_path)


def test_make_student_refuses_the_misspelt_example_naming_both_lines(misspelt, capsys):
    assert student.main(week=WEEK, repo=misspelt) == 1
    out = capsys.readouterr().out
    assert out.startswith("error: refusing to write the starter: ") and "validated (no leak)" not in out
    reference = misspelt.solution(WEEK) / "perceptron.py"
    assert out.removeprefix("error: refusing to write the starter: ").strip().split("; ") == [
        f"{reference}:28: '### Begin Solution' looks like a solution marker but is not one: a marker is "
        "exactly '### BEGIN SOLUTION' (three hashes, one space, upper case, nothing after it), alone on its line",
        "perceptron.py:28: holds a solution marker or a look-alike: '### Begin Solution'",
        f"perceptron.py:29: repeats the reference solution, {REFERENCE_29}",
        "perceptron.py:30: repeats the reference solution, solutions/perceptron/perceptron.py:30: "
        "'return np.where(scores >= 0, 1, -1).astype(np.int64)'",
        "perceptron.py:31: holds a solution marker or a look-alike: '### End Solution'",
    ]
    assert not (misspelt.dist / "student" / WEEK).exists()


def test_make_autograder_refuses_the_misspelt_reference(misspelt, capsys):
    assert autograder.main(week=WEEK, repo=misspelt) == 1
    reference = misspelt.solution(WEEK) / "perceptron.py"
    assert f"{reference}:28: '### Begin Solution' looks like a solution marker" in capsys.readouterr().out
    assert not (misspelt.dist / "gradescope").exists()


def test_solution_lines_are_found_without_the_marker_check(misspelt):
    """The line scan alone finds the region the misspelt markers bound (the markers themselves too)."""
    secrets = leaks.collect(misspelt, CONFIG, hidden_tests=True)
    secrets.problems = []  # what the marker check says is proven above; here only the scan speaks
    files = student.contents(misspelt, CONFIG)
    problems = leaks.scan(files, secrets)
    assert f"perceptron.py:29: repeats the reference solution, {REFERENCE_29}" in problems, problems
    assert any(p.startswith("perceptron.py:28: holds a solution marker or a look-alike") for p in problems)


def test_a_stale_stencil_with_solution_code_is_refused_even_with_exact_markers():
    """Markers all fine, the shipped stencil still holds predict's code (stale, or edited by hand)."""
    files = student.contents(REPO, CONFIG)
    files["perceptron.py"] = leaky_stencil().replace(b"### Begin Solution\n", b"").replace(b"    ### End Solution\n", b"")
    problems = student.validate(files, REPO, CONFIG)
    assert f"perceptron.py:28: repeats the reference solution, {REFERENCE_29}" in problems, problems


def test_solution_lines_pasted_with_no_marker_into_a_handout_or_a_public_test_are_refused():
    files = student.contents(REPO, CONFIG)
    handout = files["README.md"].decode()
    files["README.md"] = (handout + "\nA hint:\n\n```python\nscores = X @ w + b\n```\n").encode()
    hint_line = handout.count("\n") + 5
    public = files["tests/test_perceptron.py"].decode()
    files["tests/test_perceptron.py"] = (public + "\n\ndef helper(X, w, b):\n    s = sigmoid(X @ w + b)\n"
                                         "    scores=X@w+b   # re-spaced, other comment\n    return s\n").encode()
    pasted_line = public.count("\n") + 5
    problems = student.validate(files, REPO, CONFIG)
    assert f"README.md:{hint_line}: repeats the reference solution, {REFERENCE_29}" in problems, problems
    assert f"tests/test_perceptron.py:{pasted_line}: repeats the reference solution, {REFERENCE_29}" in problems

    zipped = autograder.contents(REPO, CONFIG)
    zipped["tests/public/test_perceptron.py"] = files["tests/test_perceptron.py"]
    with pytest.raises(autograder.LeakError, match=rf"tests/public/test_perceptron.py:{pasted_line}: repeats the "
                                                   r"reference solution, solutions/perceptron/perceptron.py:29"):
        autograder.scan(zipped, REPO, CONFIG)


def test_hidden_oracles_may_share_short_lines_with_the_reference_but_not_long_ones():
    """The zip's hidden graders re-implement the reference on purpose: a short shared line is
    expected there, a long one is a pasted solution."""
    files = autograder.contents(REPO, CONFIG)
    files["tests/hidden/perceptron_extra.py"] = b"def oracle(X, w, b):\n    scores = X @ w + b\n    return scores\n"
    autograder.scan(files, REPO, CONFIG)
    files["tests/hidden/perceptron_extra.py"] += b"    return np.where(scores >= 0, 1, -1).astype(np.int64)\n"
    with pytest.raises(autograder.LeakError, match="tests/hidden/perceptron_extra.py:4: repeats the reference"):
        autograder.scan(files, REPO, CONFIG)


def test_solution_spans_bound_regions_by_markers_of_any_spelling_and_unmarked_task_functions():
    source = textwrap.dedent('''\
        def predict(w, b, X):
            """Doc."""
            scores = X @ w + b
            return scores


        def helper(x):
            return x + 1


        class MulticlassPerceptron:
            def fit(self, X, y):
                # start of solution
                self.W = X.T @ y
                ### End Solution
                return self

            def predict(self, X):
                ##BEGIN SOLUTION
                return X @ self.W.T
        ''')
    spans = leaks.solution_spans(source, CONFIG, "perceptron.py")
    # predict: a task's function without any region, whole body after the docstring; helper: given;
    # fit: look-alike markers; MulticlassPerceptron.predict: a BEGIN never closed, to its function's end
    assert spans == [(3, 4), (14, 14), (20, 20)]


def test_short_and_idiomatic_lines_are_not_solution_lines():
    lines = leaks.solution_lines(REPO, load_week(REPO, "rnn"))
    normalized = set(lines)
    for idiom in ("withtorch.no_grad():", "super().__init__()", "torch.manual_seed(seed)", "returnout", "pass"):
        assert idiom not in normalized
    assert leaks.normalize("    scores = X @ w + b  # (n,)") == "scores=X@w+b"
    assert leaks.normalize("s = '#not a comment'  # a comment") == "s='#notacomment'"


def test_no_false_positive_on_any_week():
    """The real starters and zips of every week pass both scans (what `make student` and `make
    autograder` run). How long the scans take is for `make bench` to say, not a timed test."""
    for name in REPO.week_names():
        config = load_week(REPO, name)
        assert student.validate(student.contents(REPO, config), REPO, config) == [], name
        autograder.scan(autograder.contents(REPO, config), REPO, config)  # raises LeakError on a leak


@pytest.fixture
def leaky_lab(tmp_path) -> Repo:
    """A copy of the repository whose perceptron lab has a public cell (no solution markers, so it
    ships as it is) that steps through the data the way the reference's train_perceptron does."""
    for folder in ("assignments/perceptron", "solutions/perceptron", "stencils/perceptron",
                   "autograder/perceptron", "autograder/coursekit", "datasets", "gradescope"):
        shutil.copytree(REPO.root / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__", "build"))
    shutil.copy(REPO.root / "pyproject.toml", tmp_path)
    replay = ("def replay(X, y, seed=0):\n    rng = np.random.default_rng(seed)\n    w, b = np.zeros(X.shape[1]), 0.0\n"
              "    for i in rng.permutation(len(X)):\n        if y[i] * (np.dot(w, X[i]) + b) <= 0:\n"
              "            w, b = perceptron_update(w, b, X[i], y[i], lr)\n    return w, b\n")
    for folder in ("solutions", "stencils"):  # the stencil as `make stencils` writes it from the reference
        path = tmp_path / folder / WEEK / notebooks.LAB_NOTEBOOK
        nb = json.loads(path.read_text())
        nb["cells"].insert(3, {"cell_type": "code", "execution_count": None, "id": "replay", "metadata": {},
                               "outputs": [], "source": replay})
        path.write_text(json.dumps(nb, indent=1))
    return Repo(tmp_path)


def test_a_lab_cell_that_repeats_the_reference_solution_is_refused(leaky_lab, capsys):
    """The lab's public cells ship to students: a line of a graded task's solution in one gives
    that task away, whatever else the lab does with it."""
    assert student.main(week=WEEK, repo=leaky_lab) == 1
    out = capsys.readouterr().out
    reference = "solutions/perceptron/perceptron.py"
    assert (f"{notebooks.LAB_NOTEBOOK}[cell 4]:5: repeats the reference solution, {reference}:87: "
            "'if y[i] * (np.dot(w, X[i]) + b) <= 0:'") in out, out
    assert (f"{notebooks.LAB_NOTEBOOK}[cell 4]:6: repeats the reference solution, {reference}:88: "
            "'w, b = perceptron_update(w, b, X[i], y[i], lr)'") in out, out
    assert not (leaky_lab.dist / "student" / WEEK).exists()
