"""The one error family of coder.

Library code raises these with messages in the user's terms; ``coder.cli`` turns them into
``error: …`` on stderr and exit code 1. Never raise them for programming errors.
"""

from __future__ import annotations

from pathlib import Path


class CoderError(Exception):
    """A problem the user can fix: bad input, a missing object, a conflict."""

    exit_code = 1


class InputError(CoderError):
    """Bad content in a file the user gave us.

    Renders as ``FILE[:LINE]: what is wrong — how to fix``.
    """

    def __init__(self, path: str | Path | None, problem: str, fix: str | None = None,
                 line: int | None = None):
        self.path = str(path) if path is not None else None
        self.problem = problem
        self.fix = fix
        self.line = line
        super().__init__(self.render())

    def __reduce__(self):  # picklable (from a worker process) with all four fields
        return self.__class__, (self.path, self.problem, self.fix, self.line)

    def render(self) -> str:
        from coder.safeio import printable  # a file name with a newline stays on one line

        where = ""
        if self.path is not None:
            where = printable(self.path) + (f":{self.line}" if self.line is not None else "") + ": "
        return where + self.problem + (f" — {self.fix}" if self.fix else "")


class NotFoundError(CoderError):
    """A transcript, coder, code or project that does not exist."""


class ConflictError(CoderError):
    """The project's state forbids the operation (e.g. re-import over codings)."""


class GateFailed(CoderError):
    """A quality gate such as ``--min-alpha`` failed; the report itself was written."""
