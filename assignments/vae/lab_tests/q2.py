"""Lab question q2: the importance-weighted bound grows with k (public, no points)."""

from otter.test_files import test_case

OK_FORMAT = False
name = "q2"


@test_case(hidden=False)
def test_iwae(iwae, ks, model, X_val):
    import numpy as np

    import vae

    assert isinstance(iwae, dict) and sorted(iwae) == sorted(ks), "one bound per k"
    assert np.isclose(iwae[ks[-1]], float(vae.iwae_bound(model, X_val[:200], ks[-1], seed=0).mean()), rtol=1e-5)
    values = [iwae[k] for k in sorted(ks)]
    assert values[-1] >= values[0], "more samples give a tighter (larger) bound"
    assert all(v < 0 for v in values), "a bound on log p(x) of binary images is negative"
