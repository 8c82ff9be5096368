"""Lab question q1: the gradient-check table of your layers (public, no points)."""

from otter.test_files import test_case

OK_FORMAT = False
name = "q1"


@test_case(hidden=False)
def test_gradcheck(gradcheck):
    assert isinstance(gradcheck, dict), "gradcheck is a dict from parameter name to relative error"
    assert sorted(gradcheck) == ["W1", "W2", "b1", "b2"], "one entry per parameter: W1, b1, W2, b2"
    for name, error in gradcheck.items():
        assert error < 1e-6, f"{name}: relative error {error:.1e}; a correct gradient and checker give < 1e-6"


@test_case(hidden=False)
def test_the_checker_flags_a_wrong_gradient():
    import numpy as np

    import backprop

    x = np.array([0.5, -1.0, 2.0])
    numerical = backprop.numerical_gradient(lambda v: float(np.sum(v ** 3)), x.copy())
    assert backprop.relative_error(3 * x ** 2, numerical) < 1e-6, "numerical_gradient of sum(x**3) is 3x**2"
    assert backprop.relative_error(3 * x ** 2 * 1.01, numerical) > 1e-3, "relative_error flags a 1 % error"
