"""Lab question q1: training on reversal, exact-match over training (public, no points)."""

from otter.test_files import test_case

OK_FORMAT = False
name = "q1"


@test_case(hidden=False)
def test_training(matches, losses, steps):
    assert matches is not None and steps in matches, "run the training loop of question q1 to the end"
    assert len(losses) == steps and losses[-1] < 0.1 * losses[0], "the loss on the answer should fall by far"
    assert matches[steps] >= 0.9, f"held-out exact match {matches[steps]:.2f}; reversal is learned within these steps"


@test_case(hidden=False)
def test_generate_is_greedy_at_temperature_zero(model, held_out, task):
    import torch

    import transformer

    prefix = held_out[0, :task.prefix_len]
    out = transformer.generate(model, prefix, 1)
    with torch.no_grad():
        best = int(model(prefix[None, :])[0, -1].argmax())
    assert out.shape == (task.prefix_len + 1,) and int(out[-1]) == best, "temperature 0 appends the argmax token"
