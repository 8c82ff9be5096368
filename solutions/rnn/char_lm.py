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
    ### BEGIN SOLUTION
    class CharLSTM(nn.Module):
        """Embedding → one-layer LSTM → linear read-out: (N, T) int64 tokens → (N, T, V) logits."""

        def __init__(self, vocab_size: int):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, EMBEDDING)
            self.lstm = nn.LSTM(EMBEDDING, HIDDEN, batch_first=True)
            self.head = nn.Linear(HIDDEN, vocab_size)

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            states, _ = self.lstm(self.embed(tokens))  # (N, T, HIDDEN), from a zero initial state
            return self.head(states)  # (N, T, V)

    return CharLSTM(vocab_size)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    V = logits.shape[-1]
    ce = F.cross_entropy(logits.reshape(-1, V).double(), targets.reshape(-1))  # mean, in nats
    return float(torch.exp(ce))
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    tokens = torch.as_tensor(tokens, dtype=torch.int64)
    torch.manual_seed(seed)
    windows = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(steps, 1))
    offsets = torch.arange(seq_len + 1)
    model.train()
    for _ in range(steps):
        starts = torch.randint(0, len(tokens) - seq_len, (BATCH_SIZE, 1), generator=windows)
        batch = tokens[starts + offsets]  # (B, seq_len + 1)
        logits = model(batch[:, :-1])  # (B, seq_len, V)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
        optimizer.step()
        schedule.step()
    model.eval()
    return model
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    generator = torch.Generator().manual_seed(seed)
    tokens = torch.as_tensor(prefix, dtype=torch.int64).reshape(-1).clone()
    model.eval()
    with torch.no_grad():
        for _ in range(n):
            z = model(tokens[None, :])[0, -1].double()  # (V,) logits of the next token
            if temperature == 0:
                nxt = torch.argmax(z)
            else:
                probs = torch.softmax(z / temperature, dim=0)
                nxt = torch.multinomial(probs, 1, generator=generator)[0]
            tokens = torch.cat([tokens, nxt.reshape(1)])
    return tokens
    ### END SOLUTION
