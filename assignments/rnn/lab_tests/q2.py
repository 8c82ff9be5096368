"""Lab question q2: the training loop with your clip_grad_norm (public, no points)."""

from otter.test_files import test_case

OK_FORMAT = False
name = "q2"


@test_case(hidden=False)
def test_training(val_ppl, grad_norms, steps, unigram_ppl):
    assert val_ppl is not None and steps in val_ppl, "run the training loop of question q2 to the end"
    assert grad_norms is not None and len(grad_norms) == steps, "append the norm before clipping at every step"
    assert val_ppl[steps] < val_ppl[1], "the validation perplexity should fall"
    assert unigram_ppl is not None and val_ppl[steps] < 0.5 * unigram_ppl, \
        "after training the model should beat the unigram baseline by far"


@test_case(hidden=False)
def test_clip_grad_norm_keeps_small_gradients_and_scales_large_ones():
    import torch

    import rnn

    small = [torch.tensor([0.3, 0.4])]
    clipped, total = rnn.clip_grad_norm(small, 1.0)
    assert torch.allclose(clipped[0], small[0]) and abs(float(total) - 0.5) < 1e-6
    large = [torch.tensor([3.0, 0.0]), torch.tensor([[4.0]])]
    clipped, total = rnn.clip_grad_norm(large, 1.0)
    norm = float(torch.sqrt(sum((g ** 2).sum() for g in clipped)))
    assert abs(float(total) - 5.0) < 1e-5 and abs(norm - 1.0) < 1e-4, "the global norm 5 is scaled to 1"
