"""``coder init`` and ``coder db …``: creating, migrating and copying projects."""

from __future__ import annotations

from typing import Annotated

import typer

from coder.cli.common import DbOption, message, open_project

db_app = typer.Typer(help="Project database maintenance: migrations and copies.",
                     no_args_is_help=True)


def init(db: DbOption = None) -> None:
    """Create a project database (SQLite file or server database) and apply all migrations."""
    proj = open_project(db, create=True)
    message(f"project ready: {proj.label}")


@db_app.command("migrate")
def migrate(db: DbOption = None) -> None:
    """Apply pending schema migrations (they are also applied whenever a project is opened)."""
    from coder.db.engine import make_engine, resolve_url
    from coder.db.migrations import migrate as run

    engine = make_engine(resolve_url(db))
    names = run(engine)
    message("applied: " + ", ".join(names) if names else "the schema is up to date")


@db_app.command("copy")
def copy(
    source: Annotated[str, typer.Argument(metavar="SRC", help="Project to copy: a path or URL.")],
    dest: Annotated[str, typer.Argument(metavar="DEST", help="New, empty project: a path or "
                                        "URL, e.g. postgresql://user@server/study.")],
) -> None:
    """Copy a whole project to another database, e.g. a SQLite file to the team's PostgreSQL
    server and back. The destination must be empty."""
    from coder.db.copy import copy_project

    counts = copy_project(source, dest)
    message("copied " + ", ".join(f"{n} {t}" for t, n in counts.items() if n))


config_app = typer.Typer(help="Project settings that every command uses (language, extra "
                                "interviewer labels, …).", no_args_is_help=True)


@config_app.command("list")
def config_list(db: DbOption = None) -> None:
    """Show every project setting as KEY = VALUE (JSON)."""
    import json

    from coder.db.settings import all_settings

    proj = open_project(db)
    with proj.read() as conn:
        settings = all_settings(conn)
    for key, value in settings.items():
        typer.echo(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    if not settings:
        message("no settings: every command uses its defaults")


@config_app.command("set")
def config_set(
    key: Annotated[str, typer.Argument(help="Setting name, e.g. language.")],
    value: Annotated[str, typer.Argument(help="A JSON value (\"ru\", [\"Модератор\"], true) or "
                                         "plain text, which is stored as a string.")],
    db: DbOption = None,
) -> None:
    """Set a project setting."""
    import json

    from coder.db.settings import set_setting

    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    proj = open_project(db)
    with proj.write() as conn:
        set_setting(conn, key, parsed)
    message(f"{key} = {json.dumps(parsed, ensure_ascii=False)}")


@config_app.command("unset")
def config_unset(key: Annotated[str, typer.Argument(help="Setting name.")],
                 db: DbOption = None) -> None:
    """Remove a project setting (its default applies again)."""
    from coder.db.settings import set_setting

    proj = open_project(db)
    with proj.write() as conn:
        set_setting(conn, key, None)
    message(f"{key} unset")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(db_app, name="db")
    app.add_typer(config_app, name="config")
