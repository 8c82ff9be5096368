"""Lab question q1: the forward process with your q_sample (public, no points)."""

from otter.test_files import test_case

OK_FORMAT = False
name = "q1"


@test_case(hidden=False)
def test_forward_process(noisy, shown_steps, X, noise, alpha_bar):
    import torch

    assert isinstance(noisy, dict) and sorted(noisy) == sorted(shown_steps), "one noised copy per step"
    for t in shown_steps:
        expected = alpha_bar[t].sqrt() * X.double() + (1 - alpha_bar[t]).sqrt() * noise.double()
        assert torch.allclose(noisy[t].double(), expected, atol=1e-5), f"step {t}: sqrt(ab_t) x0 + sqrt(1 - ab_t) noise"
    last = noisy[max(shown_steps)]
    assert last.mean(0).abs().max() < 0.1 and (last.std(0) - 1).abs().max() < 0.1, "at the last step the data is a standard Gaussian"
