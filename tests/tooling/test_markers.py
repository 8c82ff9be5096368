"""Solution markers: only the exact spelling delimits a region, and everything that looks like a
marker but is not exactly one is refused with file:line and the exact marker, by every command
that reads markers (stencil generation, the leak scans of `make student` / `make autograder`, and
`make verify`'s static checks)."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from coursekit.authoring import known_bad, markers, notebooks, stencil, week_checks
from coursekit.authoring.commands.stencils import main as stencils_main
from coursekit.config import Budget, Task, WeekConfig, load_week
from coursekit.paths import Repo

REPO = Repo.here()
WEEK = WeekConfig(name="toy", week=9, title="Toy", student_files=("toy.py",),
                  tasks=(Task(1, "Add numbers", "toy.py", ("add",), 2.0),
                         Task(2, "A model", "toy.py", ("Model",), 3.0)),
                  budget=Budget(), path=Path("assignments/toy/week.toml"))

#: (the line written instead of a marker, the marker it was meant to be)
MISSPELLINGS = [
    ("### Begin Solution", "BEGIN"),          # case
    ("### begin solution", "BEGIN"),
    ("# BEGIN SOLUTION", "BEGIN"),            # hash count
    ("## BEGIN SOLUTION", "BEGIN"),
    ("#### BEGIN SOLUTION", "BEGIN"),
    ("###BEGIN SOLUTION", "BEGIN"),           # spacing
    ("###  BEGIN SOLUTION", "BEGIN"),
    ("### BEGIN  SOLUTION", "BEGIN"),
    ("### BEGIN\tSOLUTION", "BEGIN"),         # tabs
    ("###\tBEGIN SOLUTION", "BEGIN"),
    ("### BEGIN SOLUTION (task 1)", "BEGIN"),  # trailing text
    ("### BEGIN SOLUTION:", "BEGIN"),
    ("### TODO BEGIN SOLUTION", "BEGIN"),     # leading text
    ("### BEGIN SOLN", "BEGIN"),              # other words
    ("### BEGIN SOL", "BEGIN"),
    ("### BEGIN SOLUTIONS", "BEGIN"),
    ("### START SOLUTION", "BEGIN"),
    ("# start of solution", "BEGIN"),
    ("### BEGIN_SOLUTION", "BEGIN"),          # glued
    ("### BEGIN-SOLUTION", "BEGIN"),
    ("### BEGINSOLUTION", "BEGIN"),
    ("### BEGN SOLUTION", "BEGIN"),           # a letter or two wrong
    ("### BEGIN SOLUTOIN", "BEGIN"),
    ("### End Solution", "END"),
    ("# END SOLUTION", "END"),
    ("###END SOLUTION", "END"),
    ("### END SOLUTION.", "END"),
    ("### END SOLN", "END"),
    ("### STOP SOLUTION", "END"),
    ("### ENDSOLUTION", "END"),
    ("# end of the solution", "END"),
]

#: ordinary comments, which must stay ordinary
ORDINARY = ["# (n,)", "# no solution exists when the data are not separable", "# resolution",
            "# end of solver loop", "# the solver ends here", "# end; solutions for each row",
            "# sends solution to the server", "# BEGIN nothing", "# TODO perceptron task 1 (predict): x",
            "# solution of the linear system"]


@pytest.mark.parametrize("text, kind", MISSPELLINGS)
def test_a_look_alike_is_recognised_as_the_marker_it_resembles(text, kind):
    marker = markers.recognize(text)
    assert marker is not None and not marker.exact and marker.kind == kind
    assert markers.mentions(f"    {text}") and markers.lines_mentioning(f"x = 1\n    {text}\n") == [2]


@pytest.mark.parametrize("text", ["### BEGIN SOLUTION", "### END SOLUTION", "### END SOLUTION   "])
def test_only_the_exact_spelling_is_a_marker(text):
    marker = markers.recognize(text)
    assert marker is not None and marker.exact


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_comments_are_not_markers(text):
    assert markers.recognize(text) is None and markers.lines_mentioning(f"x = 1  {text}\n") == []


def _toy(begin: str = "### BEGIN SOLUTION", end: str = "### END SOLUTION") -> str:
    return textwrap.dedent(f'''\
        def add(a, b):
            """Return a + b."""
            {begin}
            total = a + b
            {end}
            return total


        class Model:
            def fit(self, x):
                ### BEGIN SOLUTION
                self.x = x
                ### END SOLUTION
                return self
        ''')


@pytest.mark.parametrize("text, kind", MISSPELLINGS)
def test_stencil_generation_refuses_a_misspelt_marker_with_file_line_and_the_exact_marker(text, kind):
    source = _toy(begin=text) if kind == "BEGIN" else _toy(end=text)
    line = 3 if kind == "BEGIN" else 5
    with pytest.raises(stencil.MarkerError) as err:
        stencil.strip_source(source, "toy.py", WEEK, "toy.py")
    message = str(err.value)
    assert message.startswith(f"toy.py:{line}: {text.rstrip()!r} looks like a solution marker"), message
    assert f"'### {kind} SOLUTION'" in message


@pytest.mark.parametrize("source, line, problem", [
    # unbalanced: an exact BEGIN whose END is misspelt is reported at the misspelling
    (_toy(end="### End Solution"), 5, "looks like a solution marker"),
    # an END without BEGIN, because the BEGIN is misspelt
    (_toy(begin="#BEGIN SOLUTION"), 3, "looks like a solution marker"),
    # nested: a look-alike BEGIN inside a region
    (_toy().replace("    total = a + b\n", "    # begin solution\n    total = a + b\n"), 4,
     "looks like a solution marker"),
    # no marker at all around a task's function: it would ship whole
    (_toy(begin="", end=""), 1, "'add' belongs to task 1 but holds no solution region"),
    # a class a task lists, without any region
    (_toy().replace("        ### BEGIN SOLUTION\n        self.x = x\n        ### END SOLUTION\n", "        self.x = x\n"),
     9, "'Model' belongs to task 2 but holds no solution region"),
])
def test_structural_marker_problems_are_refused_with_file_and_line(source, line, problem):
    with pytest.raises(stencil.MarkerError) as err:
        stencil.strip_source(source, "toy.py", WEEK, "toy.py")
    assert str(err.value).startswith(f"toy.py:{line}: ") and problem in str(err.value), str(err.value)


def test_a_look_alike_in_a_notebook_cell_is_refused_with_the_cell():
    cells = [{"cell_type": "code", "id": "c1", "execution_count": None, "metadata": {}, "outputs": [],
              "source": _toy(begin="### Begin Solution")},
             {"cell_type": "markdown", "id": "c2", "metadata": {}, "source": "Intro\n### begin solution"}]
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    with pytest.raises(stencil.MarkerError, match=r"^toy.ipynb\[cell 1\]:3: '### Begin Solution' looks like"):
        notebooks.student_notebook(json.dumps(notebook), "toy.ipynb")
    cells[0]["source"] = _toy()
    with pytest.raises(stencil.MarkerError, match=r"^toy.ipynb\[cell 2\]:2: '### begin solution' looks like"):
        notebooks.student_notebook(json.dumps(notebook), "toy.ipynb")


def test_the_reference_as_submitted_refuses_a_look_alike():
    """Known-bad submissions and the reference-as-submitted drop exact markers only; a look-alike
    would stay behind as a comment while its region went unnoticed."""
    assert "BEGIN SOLUTION" not in known_bad.without_markers(_toy(), "toy.py")
    assert "total = a + b" in known_bad.without_markers(_toy(), "toy.py")
    with pytest.raises(stencil.MarkerError, match=r"^toy.py:5: '### END SOLUTION\.' looks like"):
        known_bad.without_markers(_toy(end="### END SOLUTION."), "toy.py")


# --- the real week, misspelt as in the report: `### Begin Solution` / `### End Solution` around predict ---

def misspell_predict(repo: Repo) -> Path:
    """The perceptron reference with predict's markers misspelt (lines 28 and 31); returns its path."""
    path = repo.solution("perceptron") / "perceptron.py"
    lines = path.read_text().splitlines(keepends=True)
    assert lines[27] == "    ### BEGIN SOLUTION\n" and lines[28].strip().startswith("scores = X @ w + b")
    assert lines[30] == "    ### END SOLUTION\n"
    lines[27], lines[30] = "    ### Begin Solution\n", "    ### End Solution\n"
    path.write_text("".join(lines))
    return path


@pytest.fixture
def misspelt(tmp_path) -> Repo:
    for folder in ("assignments/perceptron", "solutions/perceptron", "stencils/perceptron", "autograder/perceptron"):
        shutil.copytree(REPO.root / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    repo = Repo(tmp_path)
    misspell_predict(repo)
    return repo


def test_make_stencils_refuses_the_misspelt_markers_and_writes_nothing(misspelt):
    before = (misspelt.stencil("perceptron") / "perceptron.py").read_bytes()
    with pytest.raises(stencil.MarkerError) as err:
        stencils_main(weeks=["perceptron"], repo=misspelt)
    reference = misspelt.solution("perceptron") / "perceptron.py"
    assert str(err.value).startswith(f"{reference}:28: '### Begin Solution' looks like a solution marker")
    assert "'### BEGIN SOLUTION'" in str(err.value)
    assert (misspelt.stencil("perceptron") / "perceptron.py").read_bytes() == before


def test_make_verify_static_checks_name_the_misspelt_marker(misspelt):
    """verify checks the markers as make stencils does, and its known-bad submissions (the reference
    with markers removed) refuse the look-alike instead of leaving it in as a comment."""
    config = load_week(REPO, "perceptron")
    problems = stencil.check(misspelt.solution("perceptron"), config)
    assert len(problems) == 1 and ":28: '### Begin Solution' looks like" in problems[0]
    bads = known_bad.discover(misspelt.known_bad("perceptron"))
    problems = [p for p in week_checks.known_bad_problems(misspelt, config, []) if "[scores]" not in p]
    assert bads and len(problems) == len(bads), problems
    assert all(p.endswith("perceptron.py:28: " + markers.problem(markers.recognize("### Begin Solution")))
               for p in problems), problems
