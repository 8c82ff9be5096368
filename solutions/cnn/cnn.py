"""Week 3, part B: design and train a small convolutional network for the 8×8 digits, in PyTorch.

Each function's docstring is its specification. Every ``raise NotImplementedError`` marks one task
of the handout; replace it with your code. ``torch`` and ``torch.nn`` are allowed here (this is the
file where you use PyTorch's own layers: ``nn.Conv2d``, ``nn.MaxPool2d``, ``nn.Linear``, …).

The data: the 8×8 handwritten digits of the course, as images ``X`` (N, 1, 8, 8) float32 with
pixels in [0, 1] and labels ``y`` (N,) int64 in 0..9. Locally, ``coursekit.data.load_digits_images``
gives the course's splits ("train", "val", "test") as numpy arrays; ``torch.from_numpy`` turns them
into tensors. The grader trains your model on the training split and measures its accuracy on the
held-out test split; tune on "val", never on "test".
"""

from __future__ import annotations

import torch
from torch import nn

#: Examples per gradient step; small batches take more steps per epoch.
BATCH_SIZE = 32
LEARNING_RATE = 3e-3


def build_model() -> nn.Module:
    """A small CNN mapping (N, 1, 8, 8) float32 images to (N, 10) logits (one score per digit).

    It must contain at least one convolution (``nn.Conv2d``) and have at most the handout's
    parameter budget of trainable scalars (``sum(p.numel() for p in model.parameters())``). It must
    work for any batch size N, including 1. Return logits, not probabilities: no softmax at the end
    (``nn.CrossEntropyLoss`` applies log-softmax itself). The grader seeds torch's global generator
    before calling this, so its random initialization is reproducible.

    A design that works: convolution (3×3, padding 1) → batch normalization → ReLU → 2×2
    max-pooling, twice, then flatten and one linear layer to 10 classes. Write down the shape after
    every layer.
    """
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1),  # (N, 16, 8, 8)
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 16, 4, 4)
        nn.Conv2d(16, 32, kernel_size=3, padding=1),  # (N, 32, 4, 4)
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 32, 2, 2)
        nn.Flatten(),  # (N, 128)
        nn.Linear(32 * 2 * 2, 10),  # (N, 10)
    )
    ### END SOLUTION


def train(model: nn.Module, X: torch.Tensor, y: torch.Tensor, epochs: int = 20, seed: int = 0
          ) -> nn.Module:
    """Train ``model`` to classify the digits by minimizing the cross-entropy; return it.

    Use mini-batches in a random order drawn from a generator seeded with ``seed`` (for instance
    ``torch.Generator().manual_seed(seed)`` and ``torch.randperm(n, generator=...)`` once per
    epoch), an optimizer from ``torch.optim`` (Adam with a learning rate of a few 1e-3 works well,
    better still when a schedule lowers it towards the end) and ``nn.CrossEntropyLoss``, for
    ``epochs`` passes over the data. Leave ``model`` in evaluation
    mode (``model.eval()``) when done and return it.

    The grader calls ``train(build_model(), X_train, y_train, epochs=20, seed=0)`` on the digits'
    training split and expects the handout's held-out accuracy; it runs on one CPU core within the
    handout's time limits, so keep the model and the number of steps modest.

    Args:
        model: the network from :func:`build_model`.
        X: (N, 1, 8, 8) float32 tensor of images in [0, 1].
        y: (N,) int64 tensor of labels in 0..9.
        epochs: passes over the data.
        seed: seed of the generator that orders the mini-batches.

    Returns:
        the trained model (``model`` itself, trained in place, is fine).
    """
    ### BEGIN SOLUTION
    X = torch.as_tensor(X, dtype=torch.float32)
    y = torch.as_tensor(y, dtype=torch.int64)
    torch.manual_seed(seed)  # any randomness inside the model (dropout) is reproducible too
    order = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    steps = epochs * ((len(X) + BATCH_SIZE - 1) // BATCH_SIZE)
    # The learning rate falls from LEARNING_RATE to 0 along a half cosine over all steps.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(steps, 1))
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(X), generator=order)
        for start in range(0, len(X), BATCH_SIZE):
            batch = perm[start:start + BATCH_SIZE]
            optimizer.zero_grad()
            loss = loss_fn(model(X[batch]), y[batch])  # mean cross-entropy of the batch
            loss.backward()
            optimizer.step()
            schedule.step()
    model.eval()
    return model
    ### END SOLUTION
