"""``coder import`` and ``coder transcripts list|show``."""

from __future__ import annotations

import typer

transcripts_app = typer.Typer(help="List and show imported transcripts.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(transcripts_app, name="transcripts")
