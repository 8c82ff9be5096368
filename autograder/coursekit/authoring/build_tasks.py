"""Build ``datasets/tasks/reversal_golden.npz``: sequences the task generators must reproduce.

The week-5 tasks (:mod:`coursekit.data.tasks`) are generated at grading time from seeds, not read
from files. This golden file pins the generators: ``tests/data/test_tasks.py`` checks that the same
seeds still give exactly these arrays, so a change to the code or to torch's random number
generator that would silently change every training run and every held-out set fails a test
instead. Usage, from the repository root::

    PYTHONPATH=autograder python -m coursekit.authoring.build_tasks            # writes datasets/
    PYTHONPATH=autograder python -m coursekit.authoring.build_tasks --out DIR  # writes DIR/tasks/

The arrays (all int64 or bool; see :func:`golden_arrays`) use the public seeds below only; a
grader's evaluation seed never appears here.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..data.files import CHECKSUMS_NAME, content_sha256
from .dataset_files import record_checksums, write_npz
from ..data.tasks import ReversalTask

GOLDEN_NAME = "tasks/reversal_golden.npz"
#: (length, symbols) of the golden task, and the public seeds of its arrays.
GOLDEN_TASK = (6, 10)
TRAIN_SEED, HELD_OUT_SEED, QUESTIONS_SEED = 0, 1, 2


def golden_arrays() -> dict[str, np.ndarray]:
    """``train`` (64, 13): ``sample(64, Generator().manual_seed(0))`` of ``ReversalTask(6)``;
    ``held_out`` (64, 13): ``sample_held_out(64, Generator().manual_seed(1))``; ``questions``
    (512, 6): ``torch.randint(0, 10, (512, 6), generator=Generator().manual_seed(2))`` and
    ``questions_held_out`` (512,) bool: ``is_held_out(questions)``."""
    import torch

    task = ReversalTask(*GOLDEN_TASK)
    questions = torch.randint(0, task.symbols, (512, task.length),
                              generator=torch.Generator().manual_seed(QUESTIONS_SEED))
    return {
        "train": task.sample(64, torch.Generator().manual_seed(TRAIN_SEED)).numpy(),
        "held_out": task.sample_held_out(64, torch.Generator().manual_seed(HELD_OUT_SEED)).numpy(),
        "questions": questions.numpy(),
        "questions_held_out": task.is_held_out(questions).numpy(),
    }


def build(out: Path) -> str:
    """Write the golden file under ``out``, record its digest in ``out/checksums.json`` (other
    entries are kept) and return the digest."""
    write_npz(out / GOLDEN_NAME, golden_arrays())
    digest = content_sha256(out / GOLDEN_NAME)
    record_checksums(out, {GOLDEN_NAME: digest})
    return digest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.authoring.build_tasks",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="the datasets/ folder to write into (default: the repository's)")
    args = parser.parse_args(argv)
    out = (args.out or Path(__file__).resolve().parents[3] / "datasets").resolve()
    print(f"wrote {out / GOLDEN_NAME}  sha256(content)={build(out)}")
    print(f"updated {out / CHECKSUMS_NAME}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
