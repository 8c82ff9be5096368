"""Lab question q3: your gradient-descent loop takes train_logreg's steps (public, no points)."""

import numpy as np
from otter.test_files import test_case

OK_FORMAT = False
name = "q3"


@test_case(hidden=False)
def test_loop_matches_train_logreg(w_lr, b_lr, losses, X_lr, y01, lr, steps):
    import perceptron

    assert w_lr is not None and losses is not None, "run the loop of question q3"
    assert len(losses) == steps, "one loss per step"
    assert all(a >= b - 1e-12 for a, b in zip(losses, losses[1:])), "gradient descent with this step size never increases the loss"
    w_ref, b_ref = perceptron.train_logreg(X_lr, y01, lr=lr, steps=steps)
    assert np.allclose(w_lr, w_ref) and np.isclose(b_lr, b_ref), "(w_lr, b_lr) should equal train_logreg's result"
