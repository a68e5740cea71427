"""``coder code``: the interactive coding session in the terminal.

The session itself (:mod:`coder.coding.session`) is a state machine fed with input lines;
this module reads the lines and draws what it answers with rich.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.text import Text

from coder.cli.common import DbOption, open_project, out

CONTEXT_CHARS = 400  # the previous turn is shown up to this many characters (its end)


def code(
    coder: Annotated[Optional[str], typer.Option(
        "--coder", "-c", metavar="NAME", help="Who is coding, e.g. alice. A name the project "
        "does not know yet is announced with the existing coders and needs --new-coder (or a "
        "yes at the terminal); the coder is created with their first decision. In a team "
        "project: your login, the default.", show_default=False)] = None,
    transcript: Annotated[Optional[str], typer.Option(
        "--transcript", "-t", metavar="ID", help="Only this transcript's segments.")] = None,
    theme: Annotated[Optional[str], typer.Option(
        "--theme", metavar="KEY", help="Offer only this theme's codes. Meant for a first "
        "pass: a decision still marks the segment as reviewed for EVERY theme (for agreement "
        "the other themes then count as not applied unless the segment has them), and later "
        "sessions, with or without --theme, do not offer it again. Codes of other themes "
        "already on a segment are kept.")] = None,
    new_coder: Annotated[bool, typer.Option(
        "--new-coder", help="Start a new coder of that name without asking.")] = False,
    plain: Annotated[bool, typer.Option(
        "--plain", help="The line mode (type a command, Enter) instead of the full-screen "
        "app: for scripts, screen readers and dumb terminals. Automatic when input or output "
        "is not a terminal.")] = False,
    db: DbOption = None,
) -> None:
    """Code participant segments one by one: toggle codes, Enter saves.

    In a terminal this is a full-screen app: the transcript on the left (the turns
    before the current one, the question last, and after it; scroll with the mouse or
    PageUp/PageDown), the numbered codebook on the right with the highlighted code's
    definition. Keys: 1–9 (or two digits) toggle codes, ↑/↓ and space toggle the
    highlighted one, / filters the codebook, Enter saves and goes on, - saves "no code",
    m memo, v marks the sentence(s) of the turn that carry the highlighted code, a
    accepts the model's suggestions, u undoes the last decision, b/f back and forward,
    s skip, j jump, Ctrl-F search, d criteria and examples, h help, q quit (asks when the
    selection is not saved).

    Walks the participant segments the coder has not reviewed yet (by
    transcript id, then segment number) and shows each with the previous turn,
    the transcript's attributes, the numbered codebook and any auto:model
    suggestions. Every decision is saved at once; the next session resumes at
    the first unreviewed segment. A stray Enter never saves anything: with no
    code selected, use - to record "reviewed, no code".

    Line mode (--plain, or when not a terminal) — commands (type, then Enter):
      3 | 3 7 | csto.rapid   toggle codes by number or key prefix (a prefix of
                             each part of the full key, or of its last part)
      Enter                  save the selection and go on
      - | 0 | n              save "reviewed, no code" and go on
      m TEXT                 memo, saved with the decision (m alone clears it)
      b | f                  previous / next participant segment (its saved
                             decision is the selection: change it, Enter)
      s                      skip: leave the segment as it is
      j N | j ID:N | j ID    jump to segment N of this transcript / of
                             transcript ID / to ID's first unreviewed segment
      / TEXT                 the next participant segment containing TEXT
      a                      accept the model's suggestions (p >= 0.5)
      u                      undo the last decision of this session
      d KEY | ? KEY          a code's definition, criteria and examples
      h | ?                  help
      q | Ctrl-D | Ctrl-C    quit: saved decisions stay; with an unsaved
                             selection q asks first (q again drops it)
    """
    from coder.coding.session import CodingSession
    from coder.team import resolve_coder

    project = open_project(db)
    coder = resolve_coder(project, coder)
    if not new_coder:
        new_coder = _confirm_new_coder(project, coder)
    session = CodingSession.open(project, coder, transcript=transcript, theme=theme,
                                 new_coder=new_coder)
    if session.view is None:
        return out.print(session.finished_text(), highlight=False, markup=False)
    if not plain and _full_screen_possible():
        return _run_app(session)
    draw_segment(out, session)
    while True:
        try:
            line = out.input("[bold]> [/bold]")
        except EOFError:  # Ctrl-D or the end of piped input
            out.print()
            line = "q"
        except KeyboardInterrupt:
            from coder.cli.common import err

            err.print("\nerror: interrupted — everything confirmed before the interrupt is "
                      "saved", style="red", markup=False, highlight=False)
            raise typer.Exit(130) from None
        step = session.handle(line)
        draw_step(out, session, step)
        if step.end:
            return


def _full_screen_possible() -> bool:
    import os
    import sys

    return (sys.stdin.isatty() and sys.stdout.isatty()
            and os.environ.get("TERM", "dumb") not in ("dumb", "")
            and not os.environ.get("CODER_PLAIN"))


def _run_app(session) -> None:
    from coder.coding.app import CodingApp
    from coder.cli.common import message

    app = CodingApp(session)
    try:
        app.run()
    except KeyboardInterrupt:
        pass
    message(session.finished_text() if app.result == "done" else
            f"{session.coder}: {session.progress[0]}/{session.progress[1]} reviewed — every "
            "saved decision is in the project; `coder code` resumes here")


# ---------------------------------------------------------------------------- drawing

def draw_step(console: Console, session, step) -> None:
    """Draw the answer to one input line."""
    from coder.coding.session import HELP

    for note in step.notes:
        console.print(note, style="yellow", highlight=False, markup=False)
    if step.help:
        console.print(HELP, highlight=False, markup=False)
    if step.code is not None:
        draw_code(console, step.code)
    if step.moved:
        draw_segment(console, session)
    elif step.selection:
        draw_selection(console, session)


def _confirm_new_coder(project, coder: str) -> bool:
    """At a terminal, ask before a name the project does not know becomes a new coder."""
    import sys

    from coder import names

    if not sys.stdin.isatty():
        return False  # scripts: CodingSession.open refuses with the existing names
    with project.read() as conn:
        if not names.needs_confirmation(conn, coder):
            return False
        existing = ", ".join(names.existing_coders(conn))
        hint = names.did_you_mean(coder, names.existing_coders(conn))
    return typer.confirm(f"{coder!r} is not a coder of this project yet (coders: {existing})"
                         f"{hint} Start a new coder {coder!r}?", default=False)


def draw_segment(console: Console, session) -> None:
    """The current segment with its context, the codebook, the selection and the key line.

    Built as one plain :class:`~rich.text.Text` (no markup parsing, no Rule) and printed at
    once: drawing is most of a decision's cost (SPEC §10 budget), so keep it to one print.
    """
    from coder.coding.session import KEY_LINE

    view = session.view
    turn = view.turn
    done, total = session.progress
    percent = f" ({100 * done // total}%)" if total else ""
    title = Text.assemble((view.transcript, "bold"), f" · segment {turn.n}"
                          f"{_span(turn.start, turn.end)} · {session.coder} {done}/{total} "
                          f"reviewed{percent}")
    rule = "─" * max(3, console.width - title.cell_len - 5)
    parts = [Text.assemble(("── ", "dim"), title, (" " + rule, "dim"))]
    if view.attributes:
        parts.append(Text("  ".join(f"{k}={v}" for k, v in sorted(view.attributes.items())),
                          style="dim"))
    if view.previous is not None:
        prev = view.previous.text
        if len(prev) > CONTEXT_CHARS:
            prev = "…" + prev[-CONTEXT_CHARS:]
        parts.append(Text(f"{view.previous.speaker} ({view.previous.n}): {prev}", style="dim"))
    parts.append(Text.assemble((f"{turn.speaker} ({turn.n}):", "bold"), " ", turn.text))
    if view.suggestions:
        hints = " · ".join(f"{_number(session, key)}{key} {p:.2f}"
                           for key, p in view.suggestions[:6])
        parts.append(Text(f"model suggests: {hints}", style="cyan"))
    parts.extend(code_lines(session))
    if view.stored is not None:
        codes = ", ".join(sorted(view.stored[0])) or "no code"
        memo = f" · memo: {view.stored[1]}" if view.stored[1] else ""
        parts.append(Text(f"saved: {codes}{memo}", style="green"))
    parts.append(selection_line(session))
    parts.append(Text(KEY_LINE, style="dim"))
    console.print(Text("\n").join(parts), soft_wrap=False)  # word-wrap the turns


def code_lines(session) -> list[Text]:
    """One line per theme: ``1 theme: 2 .sub 3 .sub``; selected codes marked ``*``, reversed."""
    lines: list[Text] = []
    for option in session.codes:
        if option.depth == 0 or not lines:
            lines.append(Text())
        line = lines[-1]
        chosen = option.key in session.selection
        name = option.key if option.depth == 0 else "." * option.depth + option.short
        line.append(" " if line else "")
        line.append(str(option.number), style="bold reverse" if chosen else "bold")
        line.append(("*" if chosen else " ") + name + (":" if option.depth == 0 else ""),
                    style="reverse" if chosen else None)
    return lines


def draw_selection(console: Console, session) -> None:
    console.print(selection_line(session))


def selection_line(session) -> Text:
    chosen = ", ".join(f"{c.number} {c.key}" for c in session.selected()) or "nothing"
    parts = [f"selected: {chosen}"]
    if session.kept:
        parts.append(f"kept: {', '.join(session.kept)}")
    if session.memo:
        parts.append(f"memo: {session.memo}")
    return Text(" · ".join(parts), style="bold")


def draw_code(console: Console, option) -> None:
    console.print(Text.assemble((f"{option.number} {option.key}", "bold"),
                                f" — {option.label}"))
    if option.definition:
        console.print(option.definition, highlight=False, markup=False)
    for title, items in (("include", option.include), ("exclude", option.exclude),
                         ("examples", option.examples)):
        for item in items:
            console.print(f"  {title}: {item}", highlight=False, markup=False)


def _number(session, key: str) -> str:
    option = session.code(key)
    return f"{option.number} " if option else ""


def _span(start: float | None, end: float | None) -> str:
    if start is None:
        return ""
    return f" [{_clock(start)}–{_clock(end)}]" if end is not None else f" [{_clock(start)}]"


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def register(app: typer.Typer) -> None:
    app.command("code")(code)
