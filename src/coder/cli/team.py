"""``coder team add|list`` (PostgreSQL roles of a team project) and ``coder audit``."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from coder.cli.common import DbOption, Format, FormatOption, OutputOption, message, open_project

team_app = typer.Typer(help="The people of a team project on PostgreSQL and what each may do.",
                       no_args_is_help=True)


@team_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Login name of the person (also their coder "
                                        "name), e.g. alice.", show_default=False)],
    role: Annotated[str, typer.Option(
        "--role", help="coder: writes only their own reviews and codings; supervisor: also "
        "consensus and machine coders (reconcile, autocode); reader: reads only.",
        show_default=False)],
    password: Annotated[bool, typer.Option(
        "--password", help="Ask for a password for the login (else the server's own "
        "authentication applies, e.g. peer or certificates).")] = False,
    db: DbOption = None,
) -> None:
    """Add a person to the team, or change their role (run as the project owner).

    Creates the PostgreSQL login NAME if the server has none (logins belong to the whole
    server, so an existing one is reused), grants what the role needs and nothing more, and
    for coders and supervisors creates the coder NAME. The database enforces the roles with
    grants and row-level security, whatever program connects.
    """
    from coder.team import add_member

    secret = typer.prompt("password", hide_input=True, confirmation_prompt=True,
                          err=True) if password else None
    project = open_project(db)
    with project.write() as conn:
        message(add_member(conn, name, role, password=secret))


@team_app.command("list")
def list_(format: FormatOption = Format.table, output: OutputOption = None,
          db: DbOption = None) -> None:
    """The team: each person's role, who added them, and whether their login exists."""
    from coder.render import render_rows
    from coder.team import members

    project = open_project(db)
    with project.read() as conn:
        people = members(conn)
    if not people and project.is_sqlite:
        message("a SQLite project has no team roles: whoever can open the file can change it "
                "— put the project on PostgreSQL for a team (coder db copy)")
    columns = ["name", "role", "added_by", "added_at", "login"]
    render_rows(columns, [[m.name, m.role, m.added_by, str(m.added_at)[:19],
                           "yes" if m.login else "missing"] for m in people],
                format, output, title="Team")


def audit(
    table: Annotated[Optional[str], typer.Option(
        "--table", help="Only changes of this table: coder, review, coding or decision.")]
    = None,
    actor: Annotated[Optional[str], typer.Option(
        "--actor", metavar="NAME", help="Only changes by this login (or OS user on SQLite).")]
    = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="The latest N changes.")]
    = 50,
    format: FormatOption = Format.table,
    output: OutputOption = None,
    db: DbOption = None,
) -> None:
    """Who changed which coder, review, coding or decision, when, and the row before and after.

    Every change is recorded by database triggers: on PostgreSQL under the login, which
    team members cannot forge or erase; on SQLite under the operating-system user (changes by
    other programs appear as "unknown (outside coder)").
    """
    from coder.render import render_rows
    from coder.team import audit_entries

    project = open_project(db)
    with project.read() as conn:
        entries = audit_entries(conn, table=table, actor=actor, limit=limit)
    columns = ["id", "at", "actor", "table", "operation", "before", "after"]
    render_rows(columns, [[e.id, str(e.at)[:26], e.actor, e.table, e.operation, e.before or "",
                           e.after or ""] for e in entries], format, output, title="Audit log")


def register(app: typer.Typer) -> None:
    app.add_typer(team_app, name="team")
    app.command("audit")(audit)
