"""Options shared by every command, consoles, and small rendering helpers.

Nothing here imports pandas, NumPy or scikit-learn: this module is on the ``--help`` path.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from coder.output import dump_json, err, message, messages, out, warn, write_bytes, write_text  # noqa: F401


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    md = "md"
    html = "html"
    xlsx = "xlsx"
    latex = "latex"


DbOption = Annotated[Optional[str], typer.Option(
    "--db", envvar="CODER_DB", metavar="PATH|URL",
    help="Project database: a SQLite file path or a SQLAlchemy URL such as "
         "postgresql://user@host/db. Default: ./coder.db (or $CODER_DB).",
    show_default=False)]
FormatOption = Annotated[Format, typer.Option(
    "--format", "-f", help="Output format: table for people, json/csv/md/html for programs "
                           "and papers (xlsx and latex where the output is a table).")]
OutputOption = Annotated[Optional[Path], typer.Option(
    "--output", "-o", metavar="FILE", help="Write to FILE instead of standard output.",
    show_default=False)]


def open_project(db: str | None, *, create: bool = False):
    from coder.db.engine import open_project as _open

    return _open(db, create=create)












IdentifiersOption = Annotated[Optional[Path], typer.Option(
    "--identifiers", metavar="FILE", help="The team's key file of real names (YAML or CSV, "
    "kept outside the project): output naming anyone in it is refused.", show_default=False)]
AllowPiiOption = Annotated[bool, typer.Option(
    "--allow-pii", help="Write the output even if personal data is found in its text.")]


def gate_output(texts, *, source, allow_pii: bool, identifiers: Path | None) -> None:
    """The anonymization gate on the way out: refuse (PiiFound, exit 1) to write interview
    text that holds personal data, unless ``allow_pii``."""
    if allow_pii:
        return
    from coder.anonymize import check_output, load_identifiers

    check_output("\n\n".join(texts), source=source or "output",
                 identifiers=load_identifiers(identifiers) if identifiers else None,
                 fix="pseudonymize the transcript (coder anonymize), re-import it with "
                     "--replace, or pass --allow-pii")
