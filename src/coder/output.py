"""Output below the library: the consoles, messages to stderr, data to stdout or a file.

Renderers and exporters in the library write through these helpers, so that the CLI stays a
skin (``coder.cli.common`` re-exports them). Nothing here imports pandas, NumPy or
scikit-learn: this module is on the ``--help`` path.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

# When piped or logged (not a terminal), rich would wrap tables at 80 columns; give them room.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)   # data: stdout
err = Console(stderr=True, soft_wrap=True,
              width=None if sys.stderr.isatty() else 160)                   # messages: stderr


def message(text: str, *, style: str | None = None) -> None:
    """A message for the person at the terminal (stderr)."""
    err.print(text, style=style, markup=False, highlight=False)


def messages(lines: list[str]) -> None:
    """Many message lines at once (one rich render instead of one per line: a thousand
    imported files would otherwise cost a fifth of a second)."""
    if lines:
        err.print("\n".join(lines), markup=False, highlight=False)


def warn(text: str) -> None:
    err.print(f"warning: {text}", style="yellow", markup=False, highlight=False)


def write_text(content: str, output: Path | None) -> None:
    """Data to ``output`` or stdout, written whole (a failed command leaves no partial file)."""
    if output is None:
        sys.stdout.write(content if content.endswith("\n") else content + "\n")
        sys.stdout.flush()
        return
    write_bytes(content.encode("utf-8"), output)


def write_bytes(content: bytes, output: Path) -> None:
    from coder.fileio import atomic_write

    atomic_write(output, content)
    message(f"wrote {output}")


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
