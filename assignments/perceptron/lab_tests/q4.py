"""Lab question q4: validation accuracy and confusion matrix of the multi-class perceptron (public,
no points)."""

import tomllib

import numpy as np
from otter.test_files import test_case

OK_FORMAT = False
name = "q4"


@test_case(hidden=False)
def test_accuracy_and_confusion(val_accuracy, confusion):
    import perceptron
    from coursekit import data

    X_train, y_train = data.load_digits("train")
    X_val, y_val = data.load_digits("val")
    predicted = perceptron.MulticlassPerceptron(64, 10).fit(X_train, y_train, epochs=10, seed=0).predict(X_val)
    assert val_accuracy is not None and confusion is not None, "set val_accuracy and confusion"
    assert np.isclose(float(val_accuracy), np.mean(predicted == y_val)), "val_accuracy of the 10-epoch model"
    confusion = np.asarray(confusion)
    assert confusion.shape == (10, 10), "confusion is 10 x 10"
    assert confusion.sum() == len(y_val) and np.trace(confusion) == np.sum(predicted == y_val), \
        "confusion[i, j] counts true class i predicted as j"
    assert np.array_equal(confusion.sum(axis=1), np.bincount(y_val, minlength=10)), "rows are the true classes"
    with open("week.toml", "rb") as f:
        target = tomllib.load(f)["thresholds"]["digits_test_accuracy"]
    assert val_accuracy >= target, f"the graders expect an accuracy of at least {target} on held-out digits"
