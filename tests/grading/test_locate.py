"""Finding the student's files in every reasonable submission shape, and explaining the rest."""

from __future__ import annotations

import os
import zipfile

import pytest

from coursekit.grading.locate import SubmissionError, read_student_files

FILES = ("conv.py", "cnn.py")


def populate(folder, prefix=""):
    for name in FILES:
        path = folder / prefix / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {name}\n")


def test_files_at_the_top(tmp_path):
    populate(tmp_path)
    assert read_student_files(tmp_path, FILES) == {n: f"# {n}\n".encode() for n in FILES}


def test_nested_in_a_folder_with_macos_litter(tmp_path):
    populate(tmp_path, "hw3/src")
    (tmp_path / "__MACOSX" / "hw3").mkdir(parents=True)
    (tmp_path / "__MACOSX" / "hw3" / "conv.py").write_text("litter")
    (tmp_path / "hw3" / "._conv.py").write_text("litter")
    assert read_student_files(tmp_path, FILES)["conv.py"] == b"# conv.py\n"


def test_a_whole_starter_repository(tmp_path):
    populate(tmp_path)
    (tmp_path / ".git" / "objects").mkdir(parents=True)
    (tmp_path / ".git" / "conv.py").write_text("not this")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_conv.py").write_text("")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "cnn.py").write_text("not this")
    assert read_student_files(tmp_path, FILES)["cnn.py"] == b"# cnn.py\n"


def test_a_zip_and_a_folder_holding_one_zip(tmp_path):
    archive = tmp_path / "upload" / "submission.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as z:
        for name in FILES:
            z.writestr(f"hw3/{name}", f"# {name}\n")
        z.writestr("__MACOSX/hw3/._conv.py", "litter")
    assert read_student_files(archive, FILES)["conv.py"] == b"# conv.py\n"
    assert read_student_files(archive.parent, FILES)["cnn.py"] == b"# cnn.py\n"


def test_missing_files_are_named(tmp_path):
    (tmp_path / "conv.py").write_text("")
    (tmp_path / "model.py").write_text("")
    with pytest.raises(SubmissionError, match=r"missing cnn.py: .*found: conv.py, model.py"):
        read_student_files(tmp_path, FILES)


def test_two_equally_shallow_copies_are_not_guessed(tmp_path):
    populate(tmp_path, "a")
    populate(tmp_path, "b")
    with pytest.raises(SubmissionError, match=r"found (cnn|conv).py in several places \(a/(cnn|conv).py, b/(cnn|conv).py\)"):
        read_student_files(tmp_path, FILES)


def test_symlinks_are_refused(tmp_path):
    populate(tmp_path)
    (tmp_path / "cnn.py").unlink()
    os.symlink("/etc/passwd", tmp_path / "cnn.py")
    with pytest.raises(SubmissionError, match="not a regular file"):
        read_student_files(tmp_path, FILES)


def test_zip_traversal_and_bad_zips(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../conv.py", "escape")
        z.writestr("cnn.py", "ok")
    with pytest.raises(SubmissionError, match="missing conv.py"):
        read_student_files(archive, FILES)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(SubmissionError):
        read_student_files(broken, FILES)
