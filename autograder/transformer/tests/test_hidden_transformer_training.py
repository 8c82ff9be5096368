"""Hidden graders of task 9: train_on_task on sequence reversal, judged on held-out questions.

The configured run, ``train_on_task(task, steps, seed=0)``, runs once per grading (a module-scoped
fixture). ``task`` has the interface of the course's ``ReversalTask(length)``; in the worker it is
the drivers' ``PoolTask`` over training sequences the grader drew here with
``ReversalTask.sample`` (the training sampler, which rejects every held-out question). Then the
grader, never the student's code, measures:

- **held-out questions**: ``EVAL_QUESTIONS`` questions drawn by ``ReversalTask.sample_held_out``
  with a seed that lives only in this folder; the training sampler rejects every held-out
  question, and only the question prefixes travel to the worker, never the answers;
- **the model's answers**: greedy decoding done here, one forward call per answer position on the
  prefixes so far, taking the argmax of the returned last-position logits;
- **the network's answers**: the trained parameters (names and shapes fixed by the handout), fetched
  right after training and before any held-out question reaches the worker, run through the
  grader's own implementation of the architecture (``transformer_oracle.decoder``) and decoded
  greedily here; they must equal the model's answers on (nearly) every question. A forward pass
  that computes answers by hand instead of by the network gets the model's answers right but not
  the network's;
- **generate's answers**: ``generate(model, prefix, n, temperature=0)`` on each question; every token
  must be an argmax of the model's own logits for the tokens before it (float32 ties allowed), and
  the exact answers are counted. A hand-written generate fails here.
"""

from __future__ import annotations

import pytest
import torch
import transformer_oracle as oracle
from transformer_cases import (EVAL_QUESTIONS, EVAL_SEED, TRAIN_POOL, TRAIN_POOL_SEED, driver, expect_finite, forward,
                               gen, own_positions, tensor)

from coursekit import tolerances
from coursekit.checks import GradeFailure, expect_true
from coursekit.data import ReversalTask
from coursekit.grading.client import ObjectProxy, StudentError, WorkerFailure

pytestmark = [pytest.mark.task(9), pytest.mark.builds_on(1, 2, 3, 4, 5, 6, 7)]


def _model_decoding(submission, model, prefixes: torch.Tensor, n: int, vocab: int) -> torch.Tensor:
    """Greedy decoding by the grader from the model's own last-position logits."""
    seqs = prefixes.clone()
    for _ in range(n):
        logits = forward(submission, model, seqs, what="the trained model's logits",
                         shape=(*seqs.shape, vocab))
        expect_finite(logits, "the trained model's logits")
        seqs = torch.cat([seqs, logits[:, -1].argmax(dim=-1, keepdim=True)], dim=1)
    return seqs


def _network(submission, model, task: ReversalTask):
    """The trained network as the grader will run it: a function from token sequences to logits
    for each positional-encoding candidate (the true one and, when task 4's sinusoidal_positions
    differs from it, that one), built from the parameters the model holds right after training,
    before any held-out question has reached the worker."""
    values = driver(submission, "parameter_values", model, what="the trained model")["values"]
    state = {k: tensor(v, f"parameter {k}") for k, v in values.items()}
    emb = state.get("tok_emb.weight")
    expect_true(emb is not None and emb.dim() == 2 and emb.shape[0] == task.vocab_size,
                "the trained model has no tok_emb.weight of shape (vocab_size, d_model)")
    d = emb.shape[1]
    layers = sum(1 for k in state if k.startswith("blocks.") and k.endswith(".ln1.weight"))
    d_ff = state["blocks.0.mlp.0.weight"].shape[0] if "blocks.0.mlp.0.weight" in state else 4 * d
    shapes = oracle.decoder_parameter_shapes(task.vocab_size, d, layers, d_ff)
    expect_true({k: tuple(v.shape) for k, v in state.items()} == {k: tuple(s) for k, s in shapes.items()},
                "the trained model's parameters are not exactly the ones the handout names for a DecoderLM")
    heads = driver(submission, "attention_heads", model, what="the trained model")["n_heads"]
    expect_true(len(heads) == layers and all(type(h) is int and h > 0 and d % h == 0 for h in heads),
                "the trained model's blocks.i.attn.n_heads attributes are missing or do not divide d_model")
    own = own_positions(submission, task.max_len, d)
    return [lambda seqs, pe=pe: oracle.decoder(seqs, state, heads, layers, pe=pe)
            for pe in [None] + ([own] if own is not None else [])]


def _generate_check(submission, model, truth: torch.Tensor, task: ReversalTask) -> dict:
    """Whether each token generate(temperature=0) chose is greedy for the model's own logits, and
    the accuracy counted from generate's outputs."""
    prefixes = truth[:, :task.prefix_len]
    outs = submission.driver("generate_each", "transformer", model, prefixes, task.answer_len, 0.0, 0)
    expect_true(type(outs) is list and len(outs) == len(prefixes), "generate did not return one sequence per call")
    seqs = torch.stack([tensor(o, "generate's output", shape=(task.max_len,), kind="iu").to(torch.int64)
                        for o in outs])
    expect_true(torch.equal(seqs[:, :task.prefix_len], prefixes), "generate changed the prefix it was given")
    tol = tolerances.for_dtype(torch.float32)
    greedy = True
    for p in range(task.prefix_len, task.max_len):
        logits = forward(submission, model, seqs[:, :p], what="the trained model's logits",
                         shape=(len(seqs), p, task.vocab_size))[:, -1].double()
        expect_finite(logits, "the trained model's logits")
        top = logits.max(dim=-1).values
        chosen = logits.gather(1, seqs[:, p:p + 1]).squeeze(1) if bool(
            (seqs[:, p] >= 0).all() and (seqs[:, p] < task.vocab_size).all()) else top - float("inf")
        greedy &= bool((chosen >= top - (tol.atol + tol.rtol * top.abs())).all())
    return {"greedy": greedy, "accuracy": float(task.exact_matches(truth, seqs).double().mean())}


def eval_sequences(task: ReversalTask) -> torch.Tensor:
    """The held-out questions and their answers (grader side only)."""
    return task.sample_held_out(EVAL_QUESTIONS, gen(EVAL_SEED))


@pytest.fixture(scope="module")
def trained(submission, week):
    """The configured training run, once, and what the grader measured on the held-out questions."""
    task = ReversalTask(int(week.thresholds["reversal_length"]))
    pool = task.sample(TRAIN_POOL, gen(TRAIN_POOL_SEED))
    handle = driver(submission, "pool_task", pool, task.length, task.symbols, what="the task object")
    model = submission.transformer.train_on_task(handle, steps=int(week.thresholds["train_steps"]), seed=0)
    expect_true(isinstance(model, ObjectProxy), "train_on_task must return the trained DecoderLM")
    truth = eval_sequences(task)
    assert bool(task.is_held_out(truth).all()), "grader self-check: an evaluation question is not held out"
    prefixes = truth[:, :task.prefix_len]
    try:
        networks, problem = _network(submission, model, task), None
    except GradeFailure as failure:
        networks, problem = [], failure.summary
    answers = _model_decoding(submission, model, prefixes, task.answer_len, task.vocab_size)
    result = {"model": float(task.exact_matches(truth, answers).double().mean()), "agreement": None,
              "network_problem": problem}
    if networks:
        result["agreement"] = max(float((oracle.greedy(net, prefixes, task.answer_len) == answers).all(dim=1)
                                        .double().mean()) for net in networks)
    try:
        result["generate"] = _generate_check(submission, model, truth, task)
    except GradeFailure as failure:
        result["generate"] = {"problem": failure.summary}
    except (StudentError, WorkerFailure):  # the student's generate raised, hung or crashed
        result["generate"] = {"problem": "generate(temperature=0) failed on the trained model (see task 8's tests)"}
    return result


def _expect_accuracy(trained, week, threshold: float, level: str) -> None:
    model, agreement = trained["model"], trained["agreement"]
    expect_true(model >= threshold, f"held-out exact-match accuracy {model:.3f} of the trained model's greedy "
                f"answers is below {level} {threshold:.2f}")
    expect_true(agreement is not None, f"{trained['network_problem']}: the grader cannot run the trained "
                "weights through the handout's architecture")
    need = week.thresholds["network_agreement"]
    expect_true(agreement >= need,
                f"the trained model answers {model:.3f} of the held-out questions, but its trained weights run "
                f"through the handout's architecture give the same answers on only {agreement:.3f} of them "
                f"(at least {need:.2f} needed): the model's forward pass must compute exactly the network of "
                "tasks 1-7 (if their tests fail, fix them first)")


@pytest.mark.points(10)
def test_trained_model_reaches_the_target(trained, week):
    """after train_on_task, greedy answers to held-out reversal questions reach the handout's exact-match accuracy"""
    _expect_accuracy(trained, week, week.thresholds["reversal_accuracy"], "the required")


@pytest.mark.points(3)
def test_trained_model_learns(trained, week):
    """after train_on_task, greedy answers to held-out questions reach the partial-credit accuracy"""
    _expect_accuracy(trained, week, week.thresholds["reversal_partial_accuracy"], "even the partial-credit")


@pytest.mark.points(2)
@pytest.mark.builds_on(8)
def test_generate_answers_with_the_model(trained, week):
    """generate(temperature=0) on the trained model picks the model's greedy tokens and answers the held-out questions"""
    result = trained["generate"]
    expect_true("problem" not in result, result.get("problem", ""))
    expect_true(result["greedy"], "generate(temperature=0) chose tokens that are not the argmax of the trained "
                "model's logits: its answers must come from the model (task 8)")
    threshold = week.thresholds["reversal_accuracy"]
    expect_true(result["accuracy"] >= threshold,
                f"generate's held-out exact-match accuracy {result['accuracy']:.3f} is below {threshold:.2f}")
