"""Week 4, part B: a character-level language model on Shakespeare's *Macbeth*, in PyTorch.

Each function's docstring is its specification. Every ``raise NotImplementedError`` marks one task
of the handout; replace it with your code. ``torch`` and ``torch.nn`` are allowed here, ``nn.LSTM``
included (this is the file where you use PyTorch's own recurrent layer).

The data: text is a sequence of token ids, one per character (int64, ids 0..V-1 of the course's
character vocabulary, V = 64 for the corpus). Locally, ``coursekit.data.load_corpus("train")`` (and
``"val"``) gives ``(tokens, vocab)``: a numpy int64 array and the string whose ``i``-th character
has id ``i``; ``torch.from_numpy`` turns the tokens into a tensor and ``coursekit.data.decode``
turns ids back into text. The grader trains your model on the training split and measures its
perplexity on held-out text in the play's layout that you never see: tune on "val".

A language model gives, at every position t, logits for the *next* character: ``logits[n, t]``
scores ``tokens[n, t + 1]`` and may use only ``tokens[n, 0..t]`` (it is causal). Cross-entropies are
in nats (natural logarithms) per character.

Sources: character-level recurrent language models as in Graves (2013), *Generating sequences with
recurrent neural networks*, and Karpathy's char-rnn (2015); perplexity as in Jurafsky and Martin,
*Speech and Language Processing*, chapter 3.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: Sizes that work for the model (see build_lm) and its training (see train_lm).
EMBEDDING = 32
HIDDEN = 128
BATCH_SIZE = 32
LEARNING_RATE = 1e-2
MAX_GRAD_NORM = 1.0


def build_lm(vocab_size: int) -> nn.Module:
    """A recurrent language model over ``vocab_size`` token ids.

    The module maps a batch of token ids (N, T) int64 to logits (N, T, V) float32, V = ``vocab_size``,
    for any N >= 1 and 1 <= T <= 256, starting every sequence from the same initial state (zeros).
    It must be causal: ``logits[:, t]`` depends on ``tokens[:, :t + 1]`` only, and each row of the
    batch on that row only. It must be a recurrent network with trainable parameters: an embedding
    (``nn.Embedding``), a recurrent layer (``nn.LSTM``, ``nn.GRU`` or ``nn.RNN`` with
    ``batch_first=True``, or your own cells from ``rnn.py`` with ``nn.Parameter`` weights) and a
    linear read-out to V logits. No softmax at the end. The grader seeds torch's global generator
    before calling this, so the random initialization is reproducible.

    A design that works: embedding of 32, one LSTM layer of 128 units, a linear layer to V.
    """
    # TODO rnn task 8 (build_lm): Build a character language model
    raise NotImplementedError("rnn task 8 (build_lm) is not implemented yet")


def perplexity(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """The perplexity of ``targets`` under the model's predictions, from natural-log cross-entropy.

    With ``p = softmax(logits[n, t])`` the predicted distribution of the token at position (n, t)::

        CE  = -(1 / (N·T)) Σ_{n,t} ln p[targets[n, t]]        (nats per token)
        PPL = exp(CE)

    A model that spreads its probability evenly over V tokens has PPL = V; a perfect one has 1.
    Compute ``ln p`` stably (log-softmax, not the log of a softmax).

    Args:
        logits: (N, T, V) float tensor.  targets: (N, T) int64 tensor of ids in 0..V-1.

    Returns:
        PPL as a Python float.
    """
    # TODO rnn task 9 (perplexity): Perplexity
    raise NotImplementedError("rnn task 9 (perplexity) is not implemented yet")


def train_lm(model: nn.Module, tokens: torch.Tensor, steps: int = 500, seq_len: int = 64,
             seed: int = 0) -> nn.Module:
    """Train ``model`` to predict the next character of ``tokens``; return it.

    Each of the ``steps`` optimizer steps takes a mini-batch of windows of ``seq_len + 1``
    consecutive tokens starting at random positions (drawn from a generator seeded with ``seed``,
    e.g. ``torch.randint(..., generator=torch.Generator().manual_seed(seed))``). A window's first
    ``seq_len`` tokens are the input, the same window shifted by one the targets, and the loss is
    the mean cross-entropy over all positions (``F.cross_entropy`` on logits reshaped to (-1, V)).
    Use an optimizer from ``torch.optim`` (Adam with a learning rate near 1e-2 and a schedule that
    lowers it towards the end works well) and clip the gradients' global norm (to 1, say) before
    each step. Leave the model in evaluation mode (``model.eval()``).

    The grader calls ``train_lm(build_lm(V), train_tokens, steps=500, seq_len=64, seed=0)``; it must
    finish within the handout's time limits on one CPU core, so keep the model modest.

    Args:
        model: the network from :func:`build_lm`.
        tokens: (L,) int64 tensor, the training text as token ids, L > seq_len.
        steps: optimizer steps.  seq_len: input length of a training window.
        seed: seed of the generator that draws the windows.

    Returns:
        the trained model (``model`` itself, trained in place, is fine).
    """
    # TODO rnn task 10 (train_lm): Train the language model
    raise NotImplementedError("rnn task 10 (train_lm) is not implemented yet")


def sample(model: nn.Module, prefix: torch.Tensor, n: int, temperature: float = 1.0,
           seed: int = 0) -> torch.Tensor:
    """Continue ``prefix`` by ``n`` tokens drawn from the model, one at a time.

    At each step, feed the whole sequence so far (1, t) to ``model`` (in evaluation mode, without
    gradients) and take the logits ``z`` at the last position. With ``temperature`` τ > 0, draw the
    next token from ``softmax(z / τ)`` (``torch.multinomial`` with a ``torch.Generator`` seeded
    once with ``seed``, so the same seed gives the same sample); τ < 1 sharpens the distribution,
    τ > 1 flattens it. With τ = 0, take ``argmax z`` (greedy decoding; the lowest id wins a tie).
    Append the token and repeat. Call the model only as ``model(tokens)``: ``sample`` must work with
    any model that keeps :func:`build_lm`'s contract.

    Args:
        model: maps (1, t) int64 tokens to (1, t, V) logits.
        prefix: (P,) int64 tensor, P >= 1, the start of the text.
        n: number of tokens to add, >= 0.  temperature: τ >= 0.  seed: the generator's seed.

    Returns:
        (P + n,) int64 tensor: ``prefix`` followed by the ``n`` new tokens.
    """
    # TODO rnn task 11 (sample): Sampling with a temperature
    raise NotImplementedError("rnn task 11 (sample) is not implemented yet")
