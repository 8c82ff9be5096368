"""Lab question q2: your training loop takes train_mlp's steps (public, no points)."""

from otter.test_files import test_case

OK_FORMAT = False
name = "q2"


@test_case(hidden=False)
def test_loop_equals_train_mlp(net, epoch_loss, epoch_accuracy, X_sp, y_sp, epochs, lr):
    import numpy as np

    import backprop

    assert epoch_loss is not None and len(epoch_loss) == epochs, "run the loop of question q2 to the end"
    assert epoch_loss[-1] < epoch_loss[0], "the loss should fall"
    reference = backprop.train_mlp(X_sp, y_sp, hidden=(64, 64), epochs=epochs, lr=lr, seed=0)
    for (mine, _), (theirs, _) in zip(net.parameters(), reference.parameters()):
        assert np.allclose(mine, theirs), "the loop's weights should equal train_mlp's"
    assert epoch_accuracy[-1] >= 0.95, "the MLP should fit the spirals"
