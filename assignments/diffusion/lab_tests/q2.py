"""Lab question q2: training the denoiser (public, no points)."""

from otter.test_files import test_case

OK_FORMAT = False
name = "q2"


@test_case(hidden=False)
def test_training(losses, steps):
    import numpy as np

    assert losses is not None and len(losses) == steps, "run the loop of question q2 to the end"
    assert np.mean(losses[-100:]) < 0.8 * np.mean(losses[:100]), "the ε-prediction loss should fall"
