"""Finding a class's submissions (Gradescope's export, folders of submissions or repositories) and
slicing them into shards: no grading here, so these run in the quick suite."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from coursekit.authoring.submissions import (ExportError, ShardError, Submission, Submitter, content_hash,
                                             discover, parse_shard, read_metadata, shard)

METADATA = """\
submission_101:
  :submitters:
  - :name: Ada Lovelace
    :sid: '1815'
    :email: ada@example.edu
  :created_at: 2026-01-15 23:59:00.123456789 -08:00
  :score: !ruby/object:BigDecimal 18:0.95e2
  :status: processed
submission_102:
  :submitters:
  - :name: Alan Turing
    :sid: '1912'
    :email: alan@example.edu
  - :name: Grace Hopper
    :sid: '1906'
    :email: grace@example.edu
  :results: !ruby/hash:ActiveSupport::HashWithIndifferentAccess
    score: 3
submission_103:
  :submitters:
  - :name: Listed Without Files
    :sid: '7'
"""


def _export(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "submission_metadata.yml").write_text(METADATA)
    (root / "submission_101").mkdir()
    (root / "submission_101" / "perceptron.py").write_text("x = 1\n")
    (root / "submission_102").mkdir()
    with zipfile.ZipFile(root / "submission_102" / "upload.zip", "w") as z:
        z.writestr("perceptron.py", "x = 2\n")
    (root / "submission_104").mkdir()  # in the export, not in the metadata
    (root / "submission_104" / "perceptron.py").write_text("x = 4\n")
    return root


def test_a_gradescope_export_gives_every_submission_with_its_submitters(tmp_path):
    subs = discover(_export(tmp_path / "export"), tmp_path / "unpacked")
    assert [s.id for s in subs] == ["submission_101", "submission_102", "submission_103", "submission_104"]
    by_id = {s.id: s for s in subs}
    assert by_id["submission_101"].submitters == (Submitter("Ada Lovelace", "ada@example.edu", "1815"),)
    assert [p.name for p in by_id["submission_102"].submitters] == ["Alan Turing", "Grace Hopper"]
    assert by_id["submission_103"].path is None  # listed, but no files: graded as an empty submission
    assert by_id["submission_103"].submitters[0].email == ""
    assert by_id["submission_104"].submitters == ()
    assert by_id["submission_102"].path == tmp_path / "export" / "submission_102"


def test_the_export_is_found_as_a_zip_and_one_folder_down(tmp_path):
    download = tmp_path / "download"
    export = _export(download / "assignment_42_export")
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(export.rglob("*")):
            z.write(path, path.relative_to(download).as_posix())
    direct = discover(export, tmp_path / "unused")
    from_zip = discover(archive, tmp_path / "unpacked")
    nested = discover(download, tmp_path / "unused2")
    for found in (from_zip, nested):
        assert [(s.id, s.submitters) for s in found] == [(s.id, s.submitters) for s in direct]
    assert all(s.path is None or s.path.is_relative_to(tmp_path / "unpacked") for s in from_zip)
    assert content_hash(from_zip[1].path) == content_hash(direct[1].path)


def test_a_folder_of_folders_zips_and_repositories(tmp_path):
    root = tmp_path / "class"
    (root / "alice").mkdir(parents=True)
    (root / "alice" / "perceptron.py").write_text("a\n")
    (root / "bob-repo" / ".git").mkdir(parents=True)  # a cloned repository
    (root / "bob-repo" / "perceptron.py").write_text("b\n")
    with zipfile.ZipFile(root / "carol.zip", "w") as z:
        z.writestr("perceptron.py", "c\n")
    (root / ".DS_Store").write_text("")
    (root / "notes.txt").write_text("not a submission")
    (root / "__MACOSX").mkdir()
    subs = discover(root, tmp_path / "unpacked")
    assert [(s.id, s.path.name) for s in subs] == [("alice", "alice"), ("bob-repo", "bob-repo"),
                                                   ("carol", "carol.zip")]
    assert all(s.submitters == () for s in subs)
    (root / "alice.zip").write_bytes((root / "carol.zip").read_bytes())
    with pytest.raises(ExportError, match="share a name: alice and alice.zip"):
        discover(root, tmp_path / "unpacked2")


def test_nothing_to_grade_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExportError, match="no submissions"):
        discover(tmp_path / "empty", tmp_path / "u")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ExportError, match="neither a folder nor a zip"):
        discover(tmp_path / "file.txt", tmp_path / "u")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "submission_metadata.yml").write_text("- just\n- a list\n")
    with pytest.raises(ExportError, match="not a mapping"):
        discover(tmp_path / "bad", tmp_path / "u")


def test_metadata_tags_are_read_as_plain_values_never_constructed(tmp_path):
    path = tmp_path / "m.yml"
    path.write_text("submission_1:\n  :submitters: !!python/object/apply:os.system ['echo owned']\n")
    assert read_metadata(path) == {"submission_1": ()}


def test_the_content_hash_follows_what_grading_reads(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "perceptron.py").write_text("x = 1\n")
    before = content_hash(folder)
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "perceptron.cpython-311.pyc").write_bytes(b"\0")
    (folder / ".venv").mkdir()
    assert content_hash(folder) == before  # left out, as make grade leaves them out
    (folder / "perceptron.py").write_text("x = 2\n")
    assert content_hash(folder) != before
    (folder / "perceptron.py").write_text("x = 1\n")
    assert content_hash(folder) == before
    shutil.copy(folder / "perceptron.py", folder / "extra.py")
    assert content_hash(folder) != before
    assert content_hash(None) != before


@pytest.mark.parametrize("spec, env, expected", [
    ("1/2", {}, (0, 2)),
    ("2/2", {"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "4"}, (1, 2)),  # --shard wins
    (None, {"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"}, (3, 4)),
    (None, {"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "2"}, (3, 4)),
    (None, {"SLURM_JOB_ID": "9"}, None),
    (None, {}, None),
])
def test_a_shard_comes_from_the_option_or_the_slurm_array(spec, env, expected):
    assert parse_shard(spec, env) == expected


@pytest.mark.parametrize("spec, env, problem", [
    ("0/2", {}, "between 1 and n"),
    ("3/2", {}, "between 1 and n"),
    ("half", {}, "write i/n"),
    (None, {"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "4"}, "--array=0-<n-1>"),
    (None, {"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "4"}, "not integers"),
])
def test_a_shard_that_names_no_slice_is_refused(spec, env, problem):
    with pytest.raises(ShardError, match=problem):
        parse_shard(spec, env)


def test_shards_are_disjoint_cover_everyone_and_ignore_the_listing_order():
    subs = [Submission(f"s{i:03d}", None) for i in range(23)]
    slices = [shard(subs, i, 4) for i in range(4)]
    ids = [s.id for part in slices for s in part]
    assert sorted(ids) == sorted(s.id for s in subs) and len(ids) == len(set(ids))
    assert max(map(len, slices)) - min(map(len, slices)) <= 1
    assert [shard(list(reversed(subs)), i, 4) for i in range(4)] == slices
