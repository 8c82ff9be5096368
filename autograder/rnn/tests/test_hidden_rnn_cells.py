"""Hidden graders of tasks 1 to 3: the tanh RNN, LSTM and GRU cells against PyTorch's own cells.

Each case copies its weights into ``nn.RNNCell``, ``nn.LSTMCell`` or ``nn.GRUCell`` of the case's
dtype and compares one step, in float64 and in float32, batches of one included; the results must
keep the inputs' dtype. A last test checks that the cell leaves its arguments unchanged, and awards
its point only when the cell's result is right too.
"""

from __future__ import annotations

import pytest
import torch
from rnn_cases import CELL_F32, CELL_F64, cell_args, check_cell

from coursekit.checks import expect_unchanged, run_cases

def _cases(submission, credit, kind, cases, dtype):
    run_cases(credit, cases,
              lambda k, case: check_cell(submission.rnn, kind, case, dtype, f"case {k}"))


def _unchanged(submission, kind):
    args = cell_args(kind, CELL_F64[1], torch.float64)
    report = submission.driver("call_checking_arguments", "rnn", f"{kind}_cell", *args)
    check_cell(submission.rnn, kind, CELL_F64[1], torch.float64, f"{kind}_cell", value=report["value"])
    expect_unchanged(report, f"{kind}_cell")


# --- Task 1: rnn_cell -----------------------------------------------------------------------


@pytest.mark.task(1)
@pytest.mark.points(2)
def test_rnn_cell_float64(submission, credit):
    """rnn_cell matches nn.RNNCell with copied weights in float64"""
    _cases(submission, credit, "rnn", CELL_F64, torch.float64)


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_rnn_cell_float32(submission, credit):
    """rnn_cell matches nn.RNNCell in float32, batches of one included, and keeps the dtype"""
    _cases(submission, credit, "rnn", CELL_F32, torch.float32)


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_rnn_cell_leaves_its_arguments(submission):
    """rnn_cell is right and does not change its arguments"""
    _unchanged(submission, "rnn")


# --- Task 2: lstm_cell ----------------------------------------------------------------------


@pytest.mark.task(2)
@pytest.mark.points(3)
def test_lstm_cell_float64(submission, credit):
    """lstm_cell's h' and c' match nn.LSTMCell with copied weights in float64 (gates i, f, g, o)"""
    _cases(submission, credit, "lstm", CELL_F64, torch.float64)


@pytest.mark.task(2)
@pytest.mark.points(2)
def test_lstm_cell_float32(submission, credit):
    """lstm_cell matches nn.LSTMCell in float32, batches of one included, and keeps the dtype"""
    _cases(submission, credit, "lstm", CELL_F32, torch.float32)


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_lstm_cell_leaves_its_arguments(submission):
    """lstm_cell is right and does not change its arguments"""
    _unchanged(submission, "lstm")


# --- Task 3: gru_cell -----------------------------------------------------------------------


@pytest.mark.task(3)
@pytest.mark.points(3)
def test_gru_cell_float64(submission, credit):
    """gru_cell matches nn.GRUCell with copied weights in float64 (gates r, z, n)"""
    _cases(submission, credit, "gru", CELL_F64, torch.float64)


@pytest.mark.task(3)
@pytest.mark.points(2)
def test_gru_cell_float32(submission, credit):
    """gru_cell matches nn.GRUCell in float32, batches of one included, and keeps the dtype"""
    _cases(submission, credit, "gru", CELL_F32, torch.float32)


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_gru_cell_leaves_its_arguments(submission):
    """gru_cell is right and does not change its arguments"""
    _unchanged(submission, "gru")
