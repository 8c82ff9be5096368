"""Stencil generation: uniform stubs, verbatim copies, determinism, and malformed markers with file:line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from coursekit.authoring import stencil
from coursekit.authoring.commands.stencils import main as stencils_main
from coursekit.config import Budget, Task, WeekConfig
from coursekit.paths import Repo

REPO = Repo.here()
WEEK = WeekConfig(name="toy", week=9, title="Toy", student_files=("toy.py",),
                  tasks=(Task(1, "Add numbers", "toy.py", ("add",), 2.0),
                         Task(2, "A model", "toy.py", ("Model",), 3.0)),
                  budget=Budget(), path=Path("assignments/toy/week.toml"))

REFERENCE = textwrap.dedent('''\
    """A toy module."""


    def add(a, b):
        """Return a + b."""
        ### BEGIN SOLUTION
        total = a + b
        ### END SOLUTION
        return total


    class Model:
        def fit(self, x):
            if x:
                ### BEGIN SOLUTION
                self.x = x
                ### END SOLUTION
            return self
''')


def strip(source: str) -> str:
    return stencil.strip_source(source, "toy.py", WEEK, "toy.py")


def test_regions_become_uniform_stubs_at_their_indentation():
    out = strip(REFERENCE)
    assert "BEGIN SOLUTION" not in out and "self.x = x" not in out and "total = a + b" not in out
    assert '    raise NotImplementedError("toy task 1 (add) is not implemented yet")\n' in out
    assert '            raise NotImplementedError("toy task 2 (Model) is not implemented yet")\n' in out
    assert "    # TODO toy task 1 (add): Add numbers\n" in out
    assert "        return total\n" not in out and "    return total\n" in out  # kept after the region
    compile(out, "toy.py", "exec")


def test_stub_raises_naming_the_task():
    namespace: dict = {}
    exec(compile(strip(REFERENCE), "toy.py", "exec"), namespace)
    with pytest.raises(NotImplementedError, match=r"^toy task 1 \(add\) is not implemented yet$"):
        namespace["add"](1, 2)


def test_file_without_markers_is_unchanged():
    source = "def helper(x):\n    return x  # BEGIN nothing\n"
    assert strip(source) == source


def test_generation_is_deterministic():
    assert strip(REFERENCE) == strip(REFERENCE)


@pytest.mark.parametrize("source, line, problem", [
    ("def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n", 2, "never closed"),
    ("def add(a, b):\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    return a\n    ### END SOLUTION\n", 3,
     "nested BEGIN SOLUTION"),
    ("def add(a, b):\n    return a + b\n    ### END SOLUTION\n", 3, "END SOLUTION without a BEGIN"),
    ('def add(a, b):\n    s = """\n    ### BEGIN SOLUTION\n    """\n    return s\n', 3, "inside a string"),
    ("def add(a, b):\n    x = 1  ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n", 2, "shares its line"),
    ("### BEGIN SOLUTION\nX = 1\n### END SOLUTION\n", 1, "outside any function"),
    ("def other():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION\n", 2, "belongs to no task"),
    ("def add(a, b):\n    ### BEGIN SOLUTION\n    if a:\n    ### END SOLUTION\n        return 1\n", 5,
     "would not parse"),
])
def test_malformed_markers_fail_with_file_and_line(source, line, problem):
    with pytest.raises(stencil.MarkerError) as err:
        strip(source)
    assert str(err.value).startswith(f"toy.py:{line}: "), str(err.value)
    assert problem in str(err.value)


def test_generate_skips_caches_and_copies_other_files(tmp_path):
    (tmp_path / "toy.py").write_text(REFERENCE)
    (tmp_path / "notes.txt").write_text("verbatim")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "toy.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    files = stencil.generate(tmp_path, WEEK)
    assert sorted(files) == ["notes.txt", "toy.py"]
    assert files["notes.txt"] == b"verbatim"


def test_committed_stencils_are_fresh():
    """`make stencils` on an unchanged tree changes nothing (and make test says so when it would)."""
    assert stencils_main(check=True, repo=REPO) == 0, "stencils/ is stale: run `make stencils` and commit"


def test_stale_stencil_is_reported_with_the_fix(tmp_path, capsys):
    import shutil
    for folder in ("assignments", "solutions", "stencils"):
        shutil.copytree(REPO.root / folder, tmp_path / folder)
    (tmp_path / "autograder").mkdir()
    target = tmp_path / "stencils" / "perceptron" / "perceptron.py"
    target.write_text(target.read_text() + "# edited by hand\n")
    assert stencils_main(check=True, repo=Repo(tmp_path)) == 1
    out = capsys.readouterr().out
    assert f"perceptron: {target.parent} is stale" in out and "run `make stencils`" in out
    assert str(target) in out
    assert stencils_main(repo=Repo(tmp_path)) == 0
    assert stencils_main(check=True, repo=Repo(tmp_path)) == 0


def test_week_stencils_hold_no_solution_text():
    for week in REPO.week_names():
        reference = stencil.generate(REPO.solution(week), __import__("coursekit.config", fromlist=["x"]).load_week(REPO, week))
        for rel, data in reference.items():
            text = data.decode()
            assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
        for path in REPO.stencil(week).rglob("*"):
            assert path.suffix not in (".pyc",) and "__pycache__" not in path.parts
