"""``make submit`` (``coursekit.submit``, shipped in the starter): it accepts what the grader accepts,
names the imports that will fail when graded, and never leaves an old zip behind when it refuses."""

from __future__ import annotations

import shutil
import zipfile

import pytest

from coursekit import submit
from coursekit.grading.locate import read_student_files
from coursekit.paths import Repo

REPO = Repo.here()
WEEK = "perceptron"


@pytest.fixture
def starter(tmp_path):
    """The parts of a week 1 starter that ``make submit`` reads: week.toml and the finished file."""
    shutil.copy(REPO.root / "assignments" / WEEK / "week.toml", tmp_path / "week.toml")
    shutil.copy(REPO.solution(WEEK) / "perceptron.py", tmp_path / "perceptron.py")
    return tmp_path


def run(root, capsys) -> tuple[int, str]:
    code = submit.main(["--root", str(root)])
    return code, capsys.readouterr().out


def test_the_reference_is_zipped(starter, capsys):
    code, out = run(starter, capsys)
    assert code == 0 and "warning" not in out
    with zipfile.ZipFile(starter / "submission.zip") as z:
        assert z.namelist() == ["perceptron.py"]


def test_a_byte_order_mark_is_accepted_as_the_grader_accepts_it(starter, capsys):
    path = starter / "perceptron.py"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    code, out = run(starter, capsys)
    assert code == 0, out
    assert read_student_files(starter / "submission.zip", ["perceptron.py"])["perceptron.py"] == path.read_bytes()


def test_an_encoding_declaration_is_honoured_and_other_bytes_are_refused(starter, capsys):
    path = starter / "perceptron.py"
    path.write_bytes(b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + path.read_bytes())
    assert run(starter, capsys)[0] == 0
    path.write_bytes(b"# caf\xe9\n" + path.read_bytes())
    code, out = run(starter, capsys)
    assert code == 1 and "perceptron.py is not UTF-8 text" in out


def test_a_refusal_removes_the_zip_of_an_earlier_run(starter, capsys):
    assert run(starter, capsys)[0] == 0
    assert (starter / "submission.zip").is_file()
    (starter / "perceptron.py").write_text("def predict(:\n")
    code, out = run(starter, capsys)
    assert code == 1 and "perceptron.py line 1" in out
    assert not (starter / "submission.zip").exists()
    assert "removed the earlier submission.zip" in out


def test_an_import_of_a_helper_module_that_is_not_submitted_is_named(starter, capsys):
    path = starter / "perceptron.py"
    path.write_text(path.read_text().replace("import numpy as np\n", "import numpy as np\nfrom my_utils import "
                                             "clip\nimport json, coursekit\n", 1))
    (starter / "my_utils.py").write_text("def clip(x):\n    return x\n")
    code, out = run(starter, capsys)
    assert code == 0  # a warning: the import may sit in code that never runs
    assert ("warning: perceptron.py line 15 imports my_utils, which is not one of this week's files "
            "(perceptron.py), the standard library or an installed package") in out
    assert "(my_utils.py is in your repository, but it is not submitted.)" in out
    assert "numpy" not in out and "json" not in out and "imports coursekit" not in out
    with zipfile.ZipFile(starter / "submission.zip") as z:
        assert z.namelist() == ["perceptron.py"]
