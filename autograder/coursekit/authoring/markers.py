"""Solution markers: the exact spelling, and everything that merely looks like one.

A solution region is delimited by exactly ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (three
hashes, one space, upper case, nothing after but trailing spaces). A TA's typo must never turn a
marker into an ordinary comment, because the region it meant to strip would then ship to students.
So this module recognises, besides the exact markers, comments that *look like* one: another case
or hash count, other spacing or tabs, trailing text, ``SOLN``/``SOL``/``SOLUTIONS``, ``START``/
``STOP``, an underscore or a hyphen between the words, a letter or two wrong. Every command that
reads markers refuses a look-alike (:func:`problem` says what is wrong and what the marker is), and
the leak scans use look-alikes as region bounds too, so a region whose markers were misspelt is still
known to hold solution code.

The recognizer works on one comment's text (:func:`recognize`), so it serves any file format whose
markers are comments (Python files, notebook code cells); :func:`find` tokenizes Python source.
"""

from __future__ import annotations

import difflib
import functools
import io
import re
import string
import tokenize
from dataclasses import dataclass

BEGIN_MARKER = "### BEGIN SOLUTION"
END_MARKER = "### END SOLUTION"
EXACT = {"BEGIN": BEGIN_MARKER, "END": END_MARKER}

_OPENERS = ("BEGIN", "BEGINNING", "START", "OPEN")
_CLOSERS = ("END", "STOP", "CLOSE", "FINISH")
_SOLUTION_WORDS = {"SOL", "SOLN", "SLN", "SOLUTION", "SOLUTIONS", "SOLUTIN", "SOLUTON", "SOLUITON"}
_FILLERS = {"OF", "THE"}
_CANDIDATE = re.compile(r"[A-Za-z]*[Ss][OoLlUu][A-Za-z]*")
_SOLUTION_START = re.compile(r"[Ss][OoLlUu]")
_LETTERS = frozenset(string.ascii_letters)
_PREVIOUS = re.compile(r"([A-Za-z]+)[ \t_\-:]+$")  # the word before, joined by a separator
#: how close (difflib ratio) a misspelt word or run-together comment must be to count as a look-alike
_CLOSE = 0.8


class MarkerError(ValueError):
    """A malformed solution marker; the message starts with ``file:line:``."""


@dataclass(frozen=True)
class Marker:
    """One marker or look-alike: ``kind`` is ``"BEGIN"`` or ``"END"`` (for a look-alike, the one it
    most resembles); ``exact`` is true only for the exact spelling."""

    kind: str
    exact: bool
    text: str

    @property
    def expected(self) -> str:
        return EXACT[self.kind]


@dataclass(frozen=True)
class Found:
    """A marker or look-alike in a source: 1-based ``line``, 0-based ``column`` of its ``#``, and
    whether code precedes it on its line."""

    line: int
    column: int
    marker: Marker
    after_code: bool


def _close(word: str, target: str) -> bool:
    matcher = difflib.SequenceMatcher(None, word, target)
    return matcher.real_quick_ratio() >= _CLOSE and matcher.ratio() >= _CLOSE


@functools.lru_cache(maxsize=4096)  # words repeat: scans of long texts compare each word once
def _kind_of(word: str) -> str | None:
    for kind, words in (("BEGIN", _OPENERS), ("END", _CLOSERS)):
        if word in words or (4 <= len(word) <= 11 and any(_close(word, w) for w in words)):
            return kind
    return None


@functools.lru_cache(maxsize=4096)
def _is_solution_word(word: str) -> bool:
    # Only words that start like "solution" are compared letter by letter: cheap on long texts.
    return word in _SOLUTION_WORDS or (6 <= len(word) <= 11 and word[:2] in ("SO", "SL", "SU")
                                       and _close(word, "SOLUTION"))


def recognize(comment: str) -> Marker | None:
    """The marker ``comment`` is, or looks like; ``None`` for any other comment.

    ``comment`` is a comment's text from its ``#`` (trailing spaces and the newline are ignored).
    Exact: ``### BEGIN SOLUTION`` or ``### END SOLUTION``. A look-alike, in any case, with any hashes
    and any text around it: a begin/start or end/stop word, then (``OF``/``THE`` allowed between,
    separated only by spaces, tabs, ``_``, ``-`` or ``:``) a solution word (``SOLUTION``, ``SOLN``,
    ``SOL``, one or two letters off); or the two run together (``BEGINSOLUTION``, ``BEGN_SOLUTOIN``).
    """
    text = comment.rstrip(" \t\r\n\f")
    for kind, exact in EXACT.items():
        if text == exact:
            return Marker(kind, True, text)
    # Only words holding "so", "sl" or "su" can be (or end in) a solution word: the regex skips
    # everything else in C, which keeps scans of long texts fast.
    for match in _CANDIDATE.finditer(text):
        word = match.group().upper()
        kind = _run_together(word)
        if kind is not None:
            return Marker(kind, False, text)
        if not _is_solution_word(word):
            continue
        # Walk back over fillers (OF, THE) joined by separators to the begin or end word.
        before = text[:match.start()]
        while (previous := _PREVIOUS.search(before)) is not None:
            kind = _kind_of(previous.group(1).upper())
            if kind is not None:
                return Marker(kind, False, text)
            if previous.group(1).upper() not in _FILLERS:
                break
            before = before[:previous.start()]
    return None


@functools.lru_cache(maxsize=4096)
def _run_together(word: str) -> str | None:
    """``BEGIN``/``END`` when ``word`` is a begin or end word glued to a solution word."""
    for cut in range(3, min(len(word) - 2, 10)):
        if word[cut] == "S" and _is_solution_word(word[cut:]):
            kind = _kind_of(word[:cut])
            if kind is not None:
                return kind
    return None


def problem(marker: Marker) -> str:
    """Why a look-alike is refused, and the exact marker to write instead."""
    return (f"{marker.text!r} looks like a solution marker but is not one: a marker is exactly "
            f"{marker.expected!r} (three hashes, one space, upper case, nothing after it), alone on "
            "its line")


def source_lines(source: str) -> list[str]:
    """Lines as :mod:`tokenize` numbers them (ends kept; only \\n, \\r\\n and \\r end a line)."""
    return io.StringIO(source, newline="").readlines()


def find(source: str) -> list[Found]:
    """Every marker and look-alike among the comments of Python ``source``, in order.

    Raises :class:`tokenize.TokenError`, :class:`SyntaxError` (``IndentationError``) when the source
    cannot be tokenized; :func:`find_lenient` never raises.
    """
    lines = source_lines(source)
    found = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            marker = recognize(tok.string)
            if marker is not None:
                row, col = tok.start
                found.append(Found(row, col, marker, bool(lines[row - 1][:col].strip())))
    return found


def find_lenient(source: str) -> list[Found]:
    """:func:`find`, or for source that does not tokenize, every line whose text from its first
    ``#`` looks like a marker (a leak scan must see regions even in a broken file)."""
    try:
        return find(source)
    except (tokenize.TokenError, SyntaxError):
        pass
    found = []
    for row, line in enumerate(source_lines(source), start=1):
        col = line.find("#")
        marker = recognize(line[col:]) if col >= 0 else None
        if marker is not None:
            found.append(Found(row, col, marker, bool(line[:col].strip())))
    return found


def mentions(line: str) -> bool:
    """Whether a line of any text file holds a marker or a look-alike anywhere in it (for scans of
    what ships, where a marker of any spelling means solution text came along)."""
    upper = line.upper()
    return "BEGIN SOLUTION" in upper or "END SOLUTION" in upper or recognize(line) is not None


def lines_mentioning(text: str) -> list[int]:
    """The 1-based numbers of the lines of ``text`` for which :func:`mentions` holds, found without
    looking at every line (a shipped file is mostly lines that hold no solution word at all)."""
    starts = []
    for match in _SOLUTION_START.finditer(text):  # a plain two-letter pattern: fast on long texts
        begin, end = match.start(), match.end()
        while begin > 0 and text[begin - 1] in _LETTERS:
            begin -= 1
        while end < len(text) and text[end] in _LETTERS:
            end += 1
        word = text[begin:end].upper()
        if _is_solution_word(word) or _run_together(word):
            starts.append(begin)
    numbers = sorted({text.count("\n", 0, start) + 1 for start in starts})
    lines = text.split("\n")
    return [n for n in numbers if mentions(lines[n - 1])]


def without_markers(text: str, filename: str = "<reference>") -> str:
    """``text`` with its exact marker lines removed (the reference as a student would submit it).

    Raises :class:`MarkerError` (``filename:line:``) at a look-alike marker, which would otherwise
    stay behind as a comment while the region it meant to delimit went unnoticed.
    """
    drop = set()
    for found in find_lenient(text):
        if not found.marker.exact:
            raise MarkerError(f"{filename}:{found.line}: {problem(found.marker)}")
        if not found.after_code:
            drop.add(found.line)
    return "".join(line for row, line in enumerate(source_lines(text), start=1)
                   if row not in drop)
