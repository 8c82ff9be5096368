"""Hidden graders of tasks 5 and 6: the numpy tanh RNN and backpropagation through time.

The forward pass is compared with its closed form in float64; the gradients with autograd of
``Σ_t Σ hs[t] · dhs[t]`` in float64, with an upstream gradient on every hidden state (and, in one
case, on the last state only). Each backward case takes the ``cache`` from the student's own
forward pass; ``dx``, ``dh0``, ``dWx``, ``dWh`` and ``db`` are judged in separate tests, so one
wrong gradient costs only its own points.
"""

from __future__ import annotations

import pytest
import rnn_oracle as oracle
from rnn_cases import NP_CASES, NP_LAST_ONLY, check_np_backward, check_np_forward, np_data

from coursekit.checks import expect_array, expect_close, expect_unchanged, run_cases, unpack

# --- Task 5: rnn_forward_np -----------------------------------------------------------------


@pytest.mark.task(5)
@pytest.mark.points(3)
def test_rnn_forward_np(submission, credit):
    """rnn_forward_np matches the tanh RNN's closed form in float64 (one step and batches of one included)"""
    run_cases(credit, NP_CASES, lambda k, case: check_np_forward(submission.rnn, case, f"case {k}"))


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_rnn_forward_np_leaves_its_arguments(submission):
    """rnn_forward_np is right and does not change its arguments"""
    d = np_data(*NP_CASES[0])
    report = submission.driver("call_checking_arguments", "rnn", "rnn_forward_np",
                               d["x"], d["h0"], d["Wx"], d["Wh"], d["b"])
    hs, _ = unpack(report["value"], 2, "rnn_forward_np")
    want = oracle.rnn_forward_np(**d)
    expect_array(hs, "hs", shape=want.shape, dtype_kind="f")
    expect_close(hs, want, "hs")
    expect_unchanged(report, "rnn_forward_np")


# --- Task 6: rnn_backward_np ----------------------------------------------------------------

BACKWARD_CASES = [(case, False) for case in NP_CASES] + [(NP_LAST_ONLY, True)]


def _gradient(submission, credit, which):
    run_cases(credit, BACKWARD_CASES,
              lambda k, case: check_np_backward(submission.rnn, case[0], f"case {k}", which, case[1]))


@pytest.mark.task(6)
@pytest.mark.points(3)
def test_bptt_dx(submission, credit):
    """rnn_backward_np's dx matches autograd with an upstream gradient on every step"""
    _gradient(submission, credit, "dx")


@pytest.mark.task(6)
@pytest.mark.points(2)
def test_bptt_dh0(submission, credit):
    """rnn_backward_np's dh0 (the gradient carried back to the initial state) matches autograd"""
    _gradient(submission, credit, "dh0")


@pytest.mark.task(6)
@pytest.mark.points(2)
def test_bptt_dWx(submission, credit):
    """rnn_backward_np's dWx (summed over the steps) matches autograd"""
    _gradient(submission, credit, "dWx")


@pytest.mark.task(6)
@pytest.mark.points(3)
def test_bptt_dWh(submission, credit):
    """rnn_backward_np's dWh (summed over the steps) matches autograd"""
    _gradient(submission, credit, "dWh")


@pytest.mark.task(6)
@pytest.mark.points(2)
def test_bptt_db(submission, credit):
    """rnn_backward_np's db matches autograd"""
    _gradient(submission, credit, "db")
