"""The ``coder`` command line: a thin skin over the library.

Every command parses its options, calls one library function and renders the result. Errors
from the library (:class:`coder.errors.CoderError`) become ``error: …`` on stderr with exit
code 1, in one place: :class:`CoderGroup`. Heavy libraries are imported inside commands.
"""

from __future__ import annotations

import sys

import typer
from typer.core import TyperGroup

from coder import __version__
from coder.cli.coercion import install as _fast_values
from coder.errors import CoderError

_fast_values()  # option values converted without pydantic (see coder.cli.coercion)


class _State:
    debug = False


# Each top-level command and the module that registers it, in the order `coder --help` lists
# them (typer's: commands, then groups). A command's module is loaded and turned into click
# commands only when it is run: building all of them would cost every command a twentieth of
# a second. tests/test_cli_values.py keeps this list equal to what the modules register.
COMMANDS = {
    "init": "project", "import": "transcripts", "code": "code", "status": "codings",
    "agreement": "agreement", "disagreements": "agreement", "reconcile": "agreement",
    "quotes": "reports", "scan": "anonymize", "anonymize": "anonymize", "audit": "team",
    "merge": "merge", "db": "project", "config": "project", "transcripts": "transcripts",
    "codebook": "codebook", "codings": "codings", "autocode": "autocode", "report": "reports",
    "export": "refi", "team": "team", "project": "merge", "coders": "coders",
}
MODULES = ("project", "transcripts", "codebook", "code", "codings", "agreement", "autocode",
           "reports", "refi", "anonymize", "team", "merge", "coders")  # registration order


class CoderGroup(TyperGroup):
    """Maps library errors to ``error: …`` + exit 1, and any other crash to a short message.
    Builds a command (its module's commands) only when it is asked for (see COMMANDS)."""

    @property
    def commands(self) -> dict:  # every command: for help, the reference, the tests
        for module in MODULES:
            self._load(module)
        return self._commands

    @commands.setter
    def commands(self, value: dict) -> None:
        self._commands = dict(value)
        self._loaded: set[str] = set()

    def list_commands(self, ctx) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx, cmd_name: str):
        if cmd_name in COMMANDS:
            self._load(COMMANDS[cmd_name])
        return self._commands.get(cmd_name)

    def _load(self, module: str) -> None:
        if module in self._loaded:
            return
        from typer.main import get_command

        self._loaded.add(module)
        commands = typer.Typer(add_completion=False)
        __import__(f"coder.cli.{module}", fromlist=["register"]).register(commands)
        built = get_command(commands)
        for name, command in (built.commands if hasattr(built, "commands")  # a group
                              else {built.name: built}).items():
            self._commands.setdefault(name, command)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CoderError as exc:
            if _State.debug:
                raise
            _error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:  # `coder … | head`: the reader left; not an error
            _silence_stdout()
            raise typer.Exit(0) from None
        except KeyboardInterrupt:
            _error("interrupted — work not yet committed was rolled back; committed work is kept")
            raise typer.Exit(130) from None
        except Exception as exc:  # a bug: say so briefly, keep the traceback for --debug
            if _State.debug or _is_cli_signal(exc):
                raise
            _error(f"internal error: {type(exc).__name__}: {exc} — rerun with --debug for "
                   "the traceback and report it")
            raise typer.Exit(1) from None


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _is_cli_signal(exc: Exception) -> bool:
    """Exit, Abort and usage errors of typer/click: theirs to handle, not ours."""
    return type(exc).__module__.split(".")[0] in ("typer", "click")


def _error(text: str) -> None:
    from coder.cli.common import err

    err.print(f"error: {text}", style="red", markup=False, highlight=False)


app = typer.Typer(
    cls=CoderGroup,
    name="coder",
    help="Qualitative coding of expert interviews: import transcripts, code them against a "
         "thematic codebook, measure inter-coder agreement, and export paper-ready reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"coder {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks instead of short errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    _State.debug = debug


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
