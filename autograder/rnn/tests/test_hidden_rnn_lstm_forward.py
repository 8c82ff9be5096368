"""Hidden graders of task 4: lstm_forward against a one-layer, time-first ``nn.LSTM``.

The case's weights are copied into ``nn.LSTM``; the outputs at every step and the final state
``(h_T, c_T)`` are compared in float64 (sequences of one step included) and in float32 (a batch of
one included). When a case fails and the student's ``lstm_cell`` (task 2) is wrong as well, the
feedback says so, since ``lstm_forward`` may be built on it.
"""

from __future__ import annotations

import pytest
import torch
from rnn_cases import SEQ_F32, SEQ_F64, check_lstm_forward

from coursekit.checks import run_cases

pytestmark = pytest.mark.task(4)


def _cases(submission, credit, cases, dtype, part):
    run_cases(credit, cases,
              lambda k, case: check_lstm_forward(submission.rnn, case, dtype, f"case {k}", part))


@pytest.mark.points(3)
def test_lstm_forward_outputs(submission, credit):
    """lstm_forward's outputs at every step match nn.LSTM with copied weights in float64"""
    _cases(submission, credit, SEQ_F64, torch.float64, "out")


@pytest.mark.points(1)
def test_lstm_forward_final_state(submission, credit):
    """lstm_forward's final state (h_T, c_T) matches nn.LSTM's in float64"""
    _cases(submission, credit, SEQ_F64, torch.float64, "state")


@pytest.mark.points(2)
def test_lstm_forward_float32(submission, credit):
    """lstm_forward matches nn.LSTM in float32, a batch of one included, and keeps the dtype"""
    _cases(submission, credit, SEQ_F32, torch.float32, "both")
