"""User regular expressions (``/…/`` keywords) searched with a time limit.

A codebook's regex comes from whoever wrote the codebook, and Python's ``re`` has no way to stop
a search: a pattern such as ``/(\\w+\\s?)*#/`` backtracks exponentially on an ordinary sentence
and hangs ``coder autocode keywords`` for hours. These patterns are compiled with the
``regex`` module (``V0``: the syntax of ``re``), whose searches take a ``timeout``; a search that
runs past :data:`TIMEOUT_S` seconds on one segment stops the run with one error naming the
keyword and its code, and the caller's transaction rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass

from coder.errors import CoderError

TIMEOUT_S = 1.0


class RegexTimeout(CoderError):
    """A user regex ran past its time limit on one text."""


@dataclass
class UserRegex:
    """A compiled ``/…/`` keyword of ``code``; :meth:`search` says whether ``text`` matches."""

    keyword: str
    code: str
    pattern: object  # regex.Pattern
    where: str = ""   # "codebook version N, line L" when known

    @classmethod
    def compile(cls, keyword: str, code: str, where: str = "") -> UserRegex:
        import regex

        return cls(keyword, code, regex.compile(keyword[1:-1], regex.IGNORECASE | regex.V0),
                   where)

    def search(self, text: str) -> bool:
        try:
            return self.pattern.search(text, timeout=TIMEOUT_S) is not None
        except TimeoutError:
            at = f"{self.where}: " if self.where else ""
            raise RegexTimeout(
                f"{at}keyword {self.keyword} of code {self.code} took more than {TIMEOUT_S:g} s "
                "on one segment (catastrophic backtracking) — simplify the pattern: avoid a "
                "repeated group that itself repeats, such as (\\w+\\s?)*") from None


def keyword_line(source: str, keyword: str) -> int | None:
    """The 1-based line of ``source`` (the codebook text) where ``keyword`` is written."""
    for number, line in enumerate(source.splitlines(), start=1):
        if keyword in line:
            return number
    return None
