"""Lab question q3: a deterministic DDIM chain with your ddim_step; the notebook's reverse loop equals
your sample (public, no points)."""

from otter.test_files import test_case

OK_FORMAT = False
name = "q3"


@test_case(hidden=False)
def test_ddim(ddim_points, model, start, ddim_steps, alpha_bar, X):
    import torch

    import diffusion

    assert ddim_points is not None and ddim_points.shape == start.shape, "set ddim_points"
    x = start
    for t, t_prev in zip(ddim_steps, ddim_steps[1:] + [-1]):
        x = diffusion.ddim_step(model, x, t, t_prev, alpha_bar)
    assert torch.allclose(ddim_points, x), "DDIM is deterministic: the same start gives the same points"
    nearest = torch.cdist(ddim_points.float(), X).min(dim=1).values
    assert float(nearest.median()) < 0.2, "most DDIM samples should land near the moons"


@test_case(hidden=False)
def test_the_reverse_loop_equals_sample(reverse_points, model, cosine):
    import torch

    import diffusion

    assert torch.allclose(reverse_points, diffusion.sample(model, 1000, cosine, seed=0), atol=1e-5), \
        "the notebook's chain of p_sample_step equals your sample with the same seed"
