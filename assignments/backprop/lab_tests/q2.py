"""Lab question q2: your mini-batch steps fit the spirals (public, no points)."""

from otter.test_files import test_case

OK_FORMAT = False
name = "q2"


@test_case(hidden=False)
def test_the_loop_fits_the_spirals(net, epoch_loss, epoch_accuracy, X_sp, y_sp, epochs):
    import numpy as np

    assert epoch_loss is not None and len(epoch_loss) == epochs, "run the loop of question q2 to the end"
    assert all(np.isfinite(epoch_loss)), "every batch loss should be a finite number"
    assert epoch_loss[-1] < 0.2 * epoch_loss[0], "the loss should fall by far: does each batch take an optimizer step?"
    accuracy = float(np.mean(net.forward(X_sp).argmax(axis=1) == y_sp))
    assert accuracy == epoch_accuracy[-1], "the last recorded accuracy should be the trained network's"
    assert accuracy >= 0.95, "the MLP should fit the spirals"
