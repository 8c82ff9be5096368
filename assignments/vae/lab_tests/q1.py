"""Lab question q1: your training loop takes train_vae's steps (public, no points)."""

from otter.test_files import test_case

OK_FORMAT = False
name = "q1"


@test_case(hidden=False)
def test_loop_equals_train_vae(model, history, epochs, X_train):
    import torch

    import vae

    assert history is not None and len(history["val"]) == epochs, "run the loop of question q1 to the end"
    assert history["val"][-1] < history["val"][0], "the validation negative ELBO should fall"
    reference = vae.train_vae(X_train, epochs=epochs, seed=0)
    for (name, mine), (_, theirs) in zip(model.state_dict().items(), reference.state_dict().items()):
        assert torch.allclose(mine, theirs, atol=1e-5), f"{name}: the loop's weights should equal train_vae's"


@test_case(hidden=False)
def test_the_terms_add_up(history):
    import numpy as np

    total = np.array(history["reconstruction"]) + np.array(history["kl"])
    assert np.allclose(total, history["val"]), "the negative ELBO is reconstruction + KL"
    assert min(history["kl"]) >= 0, "a KL divergence is never negative"
