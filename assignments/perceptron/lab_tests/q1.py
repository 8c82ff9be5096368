"""Lab question q1: Novikoff's bound and the updates your train_perceptron made (public, no points)."""

import numpy as np
from otter.test_files import test_case

OK_FORMAT = False
name = "q1"


@test_case(hidden=False)
def test_bound(novikoff_bound):
    from coursekit import data

    _, _, _, _, R, gamma = data.separable_blobs(200, margin=0.05, seed=0)
    assert novikoff_bound is not None, "set novikoff_bound"
    assert np.isclose(float(novikoff_bound), (R / gamma) ** 2), "novikoff_bound should be (R / gamma) ** 2"


@test_case(hidden=False)
def test_total_mistakes(total_mistakes, novikoff_bound):
    import perceptron
    from coursekit import data

    X, y, _, _, _, _ = data.separable_blobs(200, margin=0.05, seed=0)
    _, _, mistakes = perceptron.train_perceptron(X, y, epochs=100, seed=0)
    assert total_mistakes == sum(mistakes), "total_mistakes should be the sum of train_perceptron's mistakes"
    assert mistakes[-1] == 0, "on separable data the last epoch has no mistake"
    assert total_mistakes <= novikoff_bound, "Novikoff: the updates never exceed the bound"
