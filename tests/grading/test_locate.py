"""Finding the student's files in every reasonable submission shape, and explaining the rest."""

from __future__ import annotations

import io
import os
import socket
import stat
import struct
import threading
import zipfile

import pytest

from coursekit.grading.locate import SubmissionError, locate, read_student_files

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


def test_two_different_equally_complete_and_shallow_copies_are_not_guessed(tmp_path):
    populate(tmp_path, "a")
    populate(tmp_path, "b")
    (tmp_path / "b" / "conv.py").write_text("# another conv.py\n")
    with pytest.raises(SubmissionError, match=r"found 2 different copies of conv.py \(a/conv.py, b/conv.py\)"):
        read_student_files(tmp_path, FILES)


def test_symlinks_are_refused(tmp_path):
    populate(tmp_path)
    (tmp_path / "cnn.py").unlink()
    os.symlink("/etc/passwd", tmp_path / "cnn.py")
    with pytest.raises(SubmissionError, match="cnn.py is a symbolic link pointing outside the submission"):
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


# --- zips that cannot be read, and entries that are not files ----------------------------------

SOURCE = b"def add(a, b):\n    return a + b\n" * 4


def damaged_zip(kind: str) -> bytes:
    """A zip holding conv.py and cnn.py, with conv.py damaged as ``kind`` says (the bytes are
    patched as a broken or exotic archiver would leave them)."""
    buf = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if kind == "corrupt deflate" else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", compression=method) as z:
        z.writestr("conv.py", SOURCE)
        z.writestr("cnn.py", SOURCE)
    data = bytearray(buf.getvalue())
    local, central = 0, data.index(b"PK\x01\x02")  # conv.py's local and central headers
    body = local + 30 + len("conv.py")
    if kind == "encrypted":  # general-purpose flag bit 0: "encrypted"
        data[local + 6] |= 1
        data[central + 8] |= 1
    elif kind == "unsupported method":  # compression method 99 (AES), which zipfile cannot read
        data[local + 8: local + 10] = struct.pack("<H", 99)
        data[central + 10: central + 12] = struct.pack("<H", 99)
    elif kind == "bad CRC":  # one byte of the stored data flipped
        data[body] ^= 0xFF
    elif kind == "corrupt deflate":  # the deflate stream overwritten with an invalid block type
        data[body: body + 4] = b"\xff" * 4
    return bytes(data)


DAMAGE = {"encrypted": "password-protected", "unsupported method": "compression method",
          "bad CRC": "checksum", "corrupt deflate": "compressed data"}


@pytest.mark.parametrize("kind", DAMAGE)
def test_a_zip_that_cannot_be_read_is_explained(tmp_path, kind):
    archive = tmp_path / "submission.zip"
    archive.write_bytes(damaged_zip(kind))
    with pytest.raises(SubmissionError, match=f"conv.py in submission.zip .*{DAMAGE[kind]}.*make submit"):
        read_student_files(archive, FILES)
    with pytest.raises(SubmissionError, match=DAMAGE[kind]):  # the same inside an uploaded folder
        read_student_files(tmp_path, FILES)


def test_a_zip_whose_member_is_a_symlink_is_refused(tmp_path):
    archive = tmp_path / "submission.zip"
    with zipfile.ZipFile(archive, "w") as z:
        link = zipfile.ZipInfo("hw/conv.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, "/etc/passwd")
        z.writestr("hw/cnn.py", "# cnn.py")
    with pytest.raises(SubmissionError, match="hw/conv.py is a symbolic link"):
        read_student_files(archive, FILES)


def _within(seconds: float, function, *args):
    """Run ``function`` in a thread; fail if it has not returned in time (an open() that blocks)."""
    outcome = {}

    def target():
        try:
            outcome["value"] = function(*args)
        except BaseException as e:  # noqa: BLE001 - handed to the test
            outcome["error"] = e

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "reading the submission blocked"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _fifo(path):
    os.mkfifo(path)


def _device(path):
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # the same device as /dev/null
    except PermissionError:
        pytest.skip("making a device needs root")


def _socket(path):
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()


def _link_out(path):
    os.symlink("/etc/hostname", path)


def _link_in(path):
    (path.parent / "real.py").write_text("# real")
    os.symlink("real.py", path)


UNUSUAL = {"fifo": (_fifo, "a named pipe"), "device": (_device, "a device"), "socket": (_socket, "a socket"),
           "link out": (_link_out, "a symbolic link pointing outside the submission"),
           "link in": (_link_in, "a symbolic link to a file inside the submission")}


@pytest.mark.parametrize("kind", UNUSUAL)
@pytest.mark.parametrize("where", ["top", "deep, beside a regular copy"])
def test_a_pipe_device_socket_or_link_for_a_student_file_is_refused_at_once(tmp_path, kind, where):
    make, words = UNUSUAL[kind]
    populate(tmp_path)
    folder = tmp_path if where == "top" else tmp_path / "old" / "copy"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "conv.py").unlink(missing_ok=True)
    make(folder / "conv.py")
    with pytest.raises(SubmissionError, match=f"conv.py is {words}"):
        _within(10, read_student_files, tmp_path, FILES)


@pytest.mark.parametrize("kind", ["fifo", "link out"])
def test_a_pipe_or_link_as_the_uploaded_zip_is_refused_at_once(tmp_path, kind):
    make, words = UNUSUAL[kind]
    make(tmp_path / "submission.zip")
    with pytest.raises(SubmissionError, match=f"submission.zip is {words.split(' pointing')[0]}"):
        _within(10, read_student_files, tmp_path, FILES)
    with pytest.raises(SubmissionError, match="submission.zip is"):
        _within(10, read_student_files, tmp_path / "submission.zip", FILES)


# --- several copies of a file -----------------------------------------------------------------

STUB = '    raise NotImplementedError("cnn task {n} (f{n}) is not implemented yet")\n'


def starter(tasks: int) -> str:
    return "".join(f"def f{n}():\n" + STUB.format(n=n) for n in range(1, tasks + 1))


def test_the_finished_copy_in_a_subfolder_is_graded_over_the_untouched_starter_at_the_top(tmp_path):
    populate(tmp_path)
    (tmp_path / "cnn.py").write_text(starter(3))
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "cnn.py").write_text("def f1():\n    return 1\n")
    found = locate(tmp_path, FILES)
    assert found.files["cnn.py"] == b"def f1():\n    return 1\n"
    assert len(found.notes) == 1
    note = found.notes[0]
    assert "2 copies of cnn.py" in note and "Graded: work/cnn.py" in note
    assert "Ignored: cnn.py (3 parts still raise NotImplementedError" in note


def test_every_copy_not_graded_is_named(tmp_path):
    populate(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "conv.py").write_text("# conv.py\n")  # identical to the top one
    (tmp_path / "a" / "b").mkdir()
    (tmp_path / "a" / "b" / "conv.py").write_text("# an older conv.py\n")
    found = locate(tmp_path, FILES)
    assert found.files["conv.py"] == b"# conv.py\n"
    note = found.notes[0]
    assert "Graded: conv.py." in note
    assert "a/conv.py (identical to the graded copy)" in note and "a/b/conv.py (differs" in note


def test_copies_in_a_zip_are_named_with_the_zip(tmp_path):
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("repo/conv.py", "# conv.py")
        z.writestr("repo/cnn.py", starter(2))
        z.writestr("repo/done/cnn.py", "# done")
    found = locate(tmp_path, FILES)
    assert found.files["cnn.py"] == b"# done"
    assert "Graded: upload.zip: repo/done/cnn.py" in found.notes[0]


def test_a_single_copy_needs_no_note(tmp_path):
    populate(tmp_path, "deep/er")
    assert locate(tmp_path, FILES).notes == []
