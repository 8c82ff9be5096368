"""Seeded algorithmic sequence tasks for week 5 (transformer): sequence reversal, with held-out questions.

A task instance is one int64 token sequence: a *question*, a *separator* token, then the *answer*.
For :class:`ReversalTask` with ``length = 4`` and digits 0..9 (the separator is token 10)::

    question 3 1 4 1 | separator 10 | answer 1 4 1 3      ->  [3, 1, 4, 1, 10, 1, 4, 1, 3]

A decoder-only language model learns the task by next-token prediction on the answer tokens
(``loss_mask`` marks them) and answers a new question by greedy decoding after the separator.

**Held-out questions.** The question space (``symbols ** length`` questions) is split once and for
all by a fixed hash of the question: about one question in ``HELD_OUT_ONE_IN`` is *held out*.
:meth:`ReversalTask.sample`, the training sampler, never returns a held-out question (it rejects
them); :meth:`ReversalTask.sample_held_out` returns only held-out ones. A grader measures accuracy on
held-out questions drawn with a seed of its own, so the questions it asks are ones the training
sampler cannot produce, whatever seed a student trains with.

Every method draws from the ``torch.Generator`` it is given and from nothing else, so the same
generator state gives the same sequences on every machine (for a given torch version; the bundled
golden file ``datasets/tasks/reversal_golden.npz`` pins them, see ``tests/data/test_tasks.py``).
Importing this module imports the standard library only; torch is imported when a method runs.
"""

from __future__ import annotations

from typing import Any

#: About one question in this many is held out (the share is 1/8 up to the hash's rounding).
HELD_OUT_ONE_IN = 8
#: Knuth's multiplicative hash constant (a prime near 2**32 / golden ratio) and an offset.
_HASH_MULTIPLIER = 2654435761
_HASH_OFFSET = 97531
_HASH_BITS = 32
#: The largest question space the int64 hash handles exactly (value * multiplier < 2**63).
MAX_QUESTIONS = 2 ** 31


class ReversalTask:
    """Reverse a sequence of ``length`` symbols (tokens ``0 .. symbols-1``).

    Attributes (all ints):
        length: question length L (= answer length).
        symbols: number of question symbols; tokens ``0 .. symbols - 1``.
        separator: the separator token, ``symbols``.
        vocab_size: ``symbols + 1`` (the symbols and the separator).
        max_len: length of a whole sequence, ``2 L + 1``.
        prefix_len: length of question plus separator, ``L + 1``: what a model is given.
        answer_len: ``L``, the number of tokens to generate after the prefix.

    Example::

        task = ReversalTask(length=6)
        seqs = task.sample(64, torch.Generator().manual_seed(0))  # (64, 13) int64
        mask = task.loss_mask(seqs)                               # (64, 13) bool, True on the answer
    """

    def __init__(self, length: int = 6, symbols: int = 10):
        if int(length) != length or length < 1:
            raise ValueError(f"length must be an integer >= 1, got {length!r}")
        if int(symbols) != symbols or symbols < 2:
            raise ValueError(f"symbols must be an integer >= 2, got {symbols!r}")
        if symbols ** length > MAX_QUESTIONS:
            raise ValueError(f"symbols ** length = {symbols ** length} exceeds {MAX_QUESTIONS}: "
                             "the held-out hash needs a smaller question space")
        self.length, self.symbols = int(length), int(symbols)
        self.separator = self.symbols
        self.vocab_size = self.symbols + 1
        self.max_len = 2 * self.length + 1
        self.prefix_len = self.length + 1
        self.answer_len = self.length

    def __repr__(self) -> str:
        return f"ReversalTask(length={self.length}, symbols={self.symbols})"

    # --- the instance space ---------------------------------------------------------------
    def is_held_out(self, questions: Any) -> Any:
        """(n,) bool: which questions are held out. ``questions`` is (n, ≥ L) int64: the first L
        tokens of each row are the question (a whole sequence works too).

        The rule: read the question as a base-``symbols`` number ``v`` (first token most
        significant); the question is held out when the top 3 bits of the 32-bit hash
        ``(v · 2654435761 + 97531) mod 2**32`` are zero.
        """
        import torch

        q = torch.as_tensor(questions, dtype=torch.int64)[:, :self.length]
        weights = self.symbols ** torch.arange(self.length - 1, -1, -1, dtype=torch.int64)
        value = (q * weights).sum(dim=1)  # (n,)
        hashed = (value * _HASH_MULTIPLIER + _HASH_OFFSET) % (2 ** _HASH_BITS)
        return hashed < (2 ** _HASH_BITS) // HELD_OUT_ONE_IN

    def sequences(self, questions: Any) -> Any:
        """(n, 2L + 1) int64 whole sequences (question, separator, reversed question) for (n, L)
        int64 questions."""
        import torch

        q = torch.as_tensor(questions, dtype=torch.int64)[:, :self.length]
        sep = torch.full((len(q), 1), self.separator, dtype=torch.int64)
        return torch.cat([q, sep, q.flip(1)], dim=1)

    def _draw(self, n: int, generator: Any, held_out: bool) -> Any:
        import torch

        if int(n) != n or n < 0:
            raise ValueError(f"n must be an integer >= 0, got {n!r}")
        n = int(n)
        kept, have = [], 0
        # Each round draws a fixed number of candidates, so the result depends only on n and the
        # generator's state.
        per_round = max(n, 16) * (2 if not held_out else HELD_OUT_ONE_IN + 2)
        while have < n:
            q = torch.randint(0, self.symbols, (per_round, self.length), generator=generator)
            q = q[self.is_held_out(q) == held_out]
            kept.append(q)
            have += len(q)
        questions = torch.cat(kept)[:n] if kept else torch.zeros((0, self.length), dtype=torch.int64)
        return self.sequences(questions)

    def sample(self, n: int, generator: Any) -> Any:
        """(n, 2L + 1) int64 training sequences with uniformly random questions that are **not**
        held out, drawn from the ``torch.Generator`` ``generator`` (its state advances)."""
        return self._draw(n, generator, held_out=False)

    def sample_held_out(self, n: int, generator: Any) -> Any:
        """(n, 2L + 1) int64 sequences whose questions are all held out (uniform among them): what a
        grader evaluates on, with a generator of its own."""
        return self._draw(n, generator, held_out=True)

    # --- what a model learns and is scored on --------------------------------------------
    def loss_mask(self, seqs: Any) -> Any:
        """(n, 2L + 1) bool: True at the answer positions ``L + 1 .. 2L``, the tokens a model is
        trained to predict (position t's logits predict token t + 1, so the logits at positions
        ``L .. 2L - 1`` are the ones that count)."""
        import torch

        seqs = torch.as_tensor(seqs)
        mask = torch.zeros(seqs.shape, dtype=torch.bool)
        mask[:, self.prefix_len:] = True
        return mask

    def exact_matches(self, seqs: Any, outputs: Any) -> Any:
        """(n,) bool: whether each output's answer (positions ``L + 1 ..``) equals the true one.
        ``seqs`` are the true sequences, ``outputs`` (n, 2L + 1) what a model produced."""
        import torch

        truth = torch.as_tensor(seqs, dtype=torch.int64)
        got = torch.as_tensor(outputs, dtype=torch.int64)
        if got.shape != truth.shape:
            raise ValueError(f"outputs have shape {tuple(got.shape)}, expected {tuple(truth.shape)}")
        return (got[:, self.prefix_len:] == truth[:, self.prefix_len:]).all(dim=1)
