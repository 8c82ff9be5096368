"""Lab question q2: XOR becomes separable with xor_features (public, no points)."""

import numpy as np
from otter.test_files import test_case

OK_FORMAT = False
name = "q2"


@test_case(hidden=False)
def test_xor_accuracy(xor_accuracy):
    import perceptron
    from coursekit import data

    X, y = data.xor(200, seed=0)
    features = perceptron.xor_features(X)
    w, b, _ = perceptron.train_perceptron(features, y, epochs=30, seed=0)
    expected = float(np.mean(perceptron.predict(w, b, features) == y))
    assert xor_accuracy is not None, "set xor_accuracy"
    assert np.isclose(float(xor_accuracy), expected), "xor_accuracy should be the fraction predict gets right"
    assert expected == 1.0, "with xor_features the perceptron should separate XOR exactly"
