"""Lab question q3: the digits MLP's validation accuracy and its mistakes (public, no points)."""

from otter.test_files import test_case

OK_FORMAT = False
name = "q3"


@test_case(hidden=False)
def test_accuracy_and_mistakes(val_accuracy, wrong):
    import tomllib

    import numpy as np

    import backprop
    from coursekit import data

    X_train, y_train = data.load_digits("train")
    X_val, y_val = data.load_digits("val")
    predicted = backprop.train_mlp(X_train, y_train).forward(X_val).argmax(axis=1)
    assert val_accuracy is not None and wrong is not None, "set val_accuracy and wrong"
    assert np.isclose(float(val_accuracy), np.mean(predicted == y_val)), "val_accuracy of train_mlp's model"
    assert np.array_equal(np.asarray(wrong), np.flatnonzero(predicted != y_val)), "wrong: indices of the mistakes, in order"
    with open("week.toml", "rb") as f:
        target = tomllib.load(f)["thresholds"]["digits_test_accuracy"]
    assert val_accuracy >= target, f"the graders expect an accuracy of at least {target} on held-out digits"
