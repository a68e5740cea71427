"""Option values are converted without pydantic (coder.cli.coercion), exactly as typer would:
the same values, the same usage errors; and the read commands load neither SQLModel nor
pydantic (SPEC §10: their start-up would cost more than their queries)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from coder.cli import app


@pytest.mark.parametrize("args, expected", [
    (["agreement", "--bootstrap", "-1"], "Input should be greater than or equal to 0"),
    (["agreement", "--bootstrap", "abc"], "Input should be a valid integer"),
    (["agreement", "--bootstrap", "1.5"], "Input should be a valid integer"),
    (["agreement", "--min-alpha", "abc"], "Input should be a valid number"),
    (["agreement", "--format", "xx"], "'xx' is not one of"),
    (["status", "--by", "country"], "'country' is not one of"),
])
def test_bad_values_are_usage_errors(args, expected, tmp_path):
    result = CliRunner().invoke(app, args, env={"CODER_DB": str(tmp_path / "none.db")})
    assert result.exit_code == 2
    assert expected in " ".join(result.output.replace("│", " ").split())


def test_good_values_are_converted(tmp_path):
    from coder.cli.coercion import _bool, _number

    assert _number(int, "3", 0, None) == 3 and _number(float, "0.8", None, None) == 0.8
    assert _bool("yes") is True and _bool("") is False and _bool(False) is False
    db = tmp_path / "p.db"
    result = CliRunner().invoke(app, ["init", "--db", str(db)])
    assert result.exit_code == 0 and db.exists()


READ_COMMANDS = [["status", "--format", "json"], ["agreement", "--format", "json"],
                 ["disagreements", "--coders", "a,b", "--format", "json"],
                 ["report", "themes", "--coder", "a", "--format", "json"]]


def run_counting_modules(args: list[str], db) -> subprocess.CompletedProcess:
    """``coder ARGS --db DB`` in a fresh interpreter that prints ``EXIT code`` (if it exits)
    and ``LOADED [...]``: which of SQLModel, pydantic and the ORM it imported."""
    code = ("import sys\n"
            f"sys.argv = ['coder'] + {args!r} + ['--db', {str(db)!r}]\n"
            "from coder.cli import main\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    print('EXIT', exc.code)\n"
            "print('LOADED', [m for m in ('sqlmodel', 'pydantic', 'sqlalchemy.orm') "
            "if m in sys.modules])")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


@pytest.mark.parametrize("args", READ_COMMANDS)
def test_read_commands_import_neither_sqlmodel_nor_pydantic(args, tmp_path):
    from coder.db.engine import open_project

    db = tmp_path / "p.db"
    open_project(str(db), create=True).close()
    done = run_counting_modules(args, db)
    assert "LOADED []" in done.stdout, done.stdout + done.stderr
    assert "EXIT 2" not in done.stdout, done.stderr  # the command ran (an empty project: exit 1)


def test_import_of_several_paths_loads_no_pydantic(tmp_path):
    """`coder import A B` (a variadic list of paths) is converted without pydantic, to a list of
    Paths, as typer's own conversion gives it; a missing path is still the command's error."""
    for name, who in (("KZ-01.txt", "KZ-01"), ("RU-01.txt", "RU-01")):
        (tmp_path / name).write_text(f"Interviewer: Why?\n\n{who}: Because.\n", encoding="utf-8")
    db = tmp_path / "p.db"
    code = ("import sys\n"
            f"sys.argv = ['coder', 'import', {str(tmp_path / 'KZ-01.txt')!r}, "
            f"{str(tmp_path / 'RU-01.txt')!r}, '--db', {str(db)!r}]\n"
            "from coder.cli import main\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    print('EXIT', exc.code)\n"
            "print('LOADED', [m for m in ('sqlmodel', 'pydantic') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "LOADED []" in done.stdout, done.stdout + done.stderr
    assert "imported 2 transcript(s)" in done.stderr, done.stderr
    missing = CliRunner().invoke(app, ["import", str(tmp_path / "nowhere.txt"), "--db", str(db)])
    assert missing.exit_code == 1 and "nowhere.txt" in missing.output


def test_read_commands_on_a_coded_project_load_neither(tmp_path):
    """The same on a project with codings (an empty one returns before the queries that once
    pulled in the ORM models)."""
    from conftest import CODEBOOK, CODINGS, CORPUS, run

    db = tmp_path / "p.db"
    run(db, "import", CORPUS, "--meta", CORPUS / "participants.csv")
    run(db, "codebook", "load", CODEBOOK)
    for name in ("alice", "bob"):
        run(db, "codings", "import", CODINGS / f"{name}.csv", "--coder", name, "--new-coder")
    names = {"a,b": "alice,bob", "a": "alice"}
    for args in ([names.get(a, a) for a in command] for command in READ_COMMANDS):
        done = run_counting_modules(args, db)
        assert "LOADED []" in done.stdout, (args, done.stdout + done.stderr)
        assert "EXIT" not in done.stdout or "EXIT 0" in done.stdout, (args, done.stderr)


def test_coding_session_start_loads_no_orm(tmp_path):
    """`coder code` reads its scope with Core statements: no SQLModel, pydantic or ORM at
    start-up (a fifth of a second before the first segment shows)."""
    from conftest import CODEBOOK, CORPUS, run

    db = tmp_path / "p.db"
    run(db, "import", CORPUS, "--meta", CORPUS / "participants.csv")
    run(db, "codebook", "load", CODEBOOK)
    code = ("import sys\n"
            f"sys.argv = ['coder', 'code', '--coder', 'alice', '--db', {str(db)!r}]\n"
            "from coder.cli import main\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    print('EXIT', exc.code)\n"
            "print('LOADED', [m for m in ('sqlmodel', 'pydantic', 'sqlalchemy.orm') "
            "if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          input="q\n")
    assert "segment" in done.stdout, done.stdout + done.stderr  # it drew the first segment
    assert "LOADED []" in done.stdout, done.stdout + done.stderr


def test_the_command_list_is_what_the_modules_register():
    """coder.cli.COMMANDS (which module builds which command, in help order) is what the
    modules register, in the order typer lists them: commands, then groups."""
    import typer
    from typer.main import get_command

    from coder.cli import COMMANDS, MODULES

    plain, groups, owner = [], [], {}
    for module in MODULES:
        commands = typer.Typer(add_completion=False)
        __import__(f"coder.cli.{module}", fromlist=["register"]).register(commands)
        built = get_command(commands)
        for name, command in (built.commands if hasattr(built, "commands")
                              else {built.name: built}).items():
            (groups if hasattr(command, "commands") else plain).append(name)
            owner[name] = module
    assert list(COMMANDS) == plain + groups
    assert COMMANDS == {name: owner[name] for name in COMMANDS}
    assert set(COMMANDS.values()) == set(MODULES)


def test_a_command_builds_only_its_own_module():
    code = ("import sys\n"
            "sys.argv = ['coder', 'status', '--help']\n"
            "from coder.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('MODULES', sorted(m for m in sys.modules if m.startswith('coder.cli.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "MODULES" in done.stdout, done.stderr
    loaded = done.stdout.split("MODULES", 1)[1]
    assert "coder.cli.codings" in loaded
    for other in ("coder.cli.agreement", "coder.cli.reports", "coder.cli.refi",
                  "coder.cli.autocode"):
        assert other not in loaded, (other, loaded)
