"""The week-5 sequence tasks: determinism, the held-out partition, masks, and the bundled golden file."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from coursekit.data import ReversalTask
from coursekit.authoring.build_tasks import GOLDEN_NAME, golden_arrays
from coursekit.data.files import verified_path
from coursekit.data.tasks import HELD_OUT_ONE_IN


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_attributes():
    task = ReversalTask(length=6)
    assert (task.symbols, task.separator, task.vocab_size) == (10, 10, 11)
    assert (task.max_len, task.prefix_len, task.answer_len) == (13, 7, 6)
    assert repr(task) == "ReversalTask(length=6, symbols=10)"


@pytest.mark.parametrize("bad", [dict(length=0), dict(length=2.5), dict(symbols=1), dict(length=10)])
def test_bad_arguments_are_refused(bad):
    with pytest.raises(ValueError):
        ReversalTask(**bad)


def test_sequences_reverse_the_question():
    task = ReversalTask(length=4)
    seqs = task.sequences(torch.tensor([[3, 1, 4, 1], [0, 0, 7, 9]]))
    assert seqs.dtype == torch.int64
    assert seqs.tolist() == [[3, 1, 4, 1, 10, 1, 4, 1, 3], [0, 0, 7, 9, 10, 9, 7, 0, 0]]


@pytest.mark.parametrize("method", ["sample", "sample_held_out"])
def test_sampling_is_deterministic_and_well_formed(method):
    task = ReversalTask(length=5, symbols=7)
    a = getattr(task, method)(100, gen(3))
    b = getattr(task, method)(100, gen(3))
    assert torch.equal(a, b)
    assert a.shape == (100, 11) and a.dtype == torch.int64
    assert torch.equal(a, task.sequences(a[:, :5]))
    assert int(a[:, :5].min()) >= 0 and int(a[:, :5].max()) < 7
    assert not torch.equal(a, getattr(task, method)(100, gen(4)))
    assert getattr(task, method)(0, gen(3)).shape == (0, 11)


def test_training_never_samples_a_held_out_question_and_the_grader_only_those():
    task = ReversalTask(length=6)
    for seed in range(5):
        assert not task.is_held_out(task.sample(2000, gen(seed))).any()
        assert task.is_held_out(task.sample_held_out(300, gen(seed))).all()


def test_the_held_out_share_is_about_one_in_eight():
    task = ReversalTask(length=4)
    every = torch.cartesian_prod(*[torch.arange(10)] * 4)  # all 10**4 questions
    share = task.is_held_out(every).double().mean().item()
    assert abs(share - 1 / HELD_OUT_ONE_IN) < 0.01
    # Training draws cover the rest of the space: uniform over the questions that are not held out.
    assert len(torch.unique(task.sample(20000, gen(0))[:, :4], dim=0)) > 0.8 * (1 - share) * 10 ** 4


def test_loss_mask_marks_the_answer():
    task = ReversalTask(length=3)
    mask = task.loss_mask(task.sample(4, gen(0)))
    assert mask.dtype == torch.bool and mask.shape == (4, 7)
    assert mask.tolist() == [[False] * 4 + [True] * 3] * 4


def test_exact_matches():
    task = ReversalTask(length=3)
    seqs = task.sample(3, gen(1))
    outputs = seqs.clone()
    outputs[1, -1] = (outputs[1, -1] + 1) % 10
    outputs[2, 0] = (outputs[2, 0] + 1) % 10  # the question part does not count
    assert task.exact_matches(seqs, outputs).tolist() == [True, False, True]
    with pytest.raises(ValueError):
        task.exact_matches(seqs, outputs[:, :-1])


def test_the_generator_reproduces_the_bundled_golden_file():
    path = verified_path(GOLDEN_NAME, "PYTHONPATH=autograder python -m coursekit.authoring.build_tasks")
    with open(path, "rb") as file, np.load(file, allow_pickle=False) as archive:
        stored = {name: archive[name] for name in archive.files}
    fresh = golden_arrays()
    assert sorted(stored) == sorted(fresh)
    for name, array in fresh.items():
        assert stored[name].dtype == array.dtype and np.array_equal(stored[name], array), name
