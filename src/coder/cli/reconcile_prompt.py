"""``coder reconcile --rule interactive`` at the terminal (line mode).

For each disputed segment: where it is ("n of N"), the interviewer's question before it and the
segment's full text, each coder's codes and memo side by side, what they differ on, and the
consensus selection — which starts as the majority proposal and is changed the way ``coder
code`` changes a selection: code numbers or key prefixes toggle codes.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

HELP = """\
Settle the consensus for this segment (type, then Enter):
  Enter            save the selection (it starts as the majority proposal)
  3   3 7   rapid  toggle codes in the selection, by number or key prefix as in coder code
  =1   =alice      take that coder's codes as the selection
  u                the union of every coder's codes
  c                clear the selection (then toggle the codes you want)
  -                the consensus applies no code here
  b                back to the previous disputed segment
  s                leave this segment for later
  d KEY            a code's definition, criteria and examples
  h                this help
  q                stop: everything saved so far is kept"""


def make_chooser(options, console):
    """A ``choose(view, proposal, keys)`` for :func:`coder.coding.consensus.reconcile`."""
    from coder.cli.code import draw_code
    from coder.coding.consensus import BACK, StopReconcile
    from coder.coding.session import resolve_code

    by_key = {o.key: o for o in options}

    def choose(view, proposal: set[str], keys: list[str]):
        names = list(view.codes)
        selection = set(proposal)
        _draw(console, view, names, selection, by_key)
        while True:
            try:
                answer = console.input("[bold]consensus> [/bold]").strip()
            except EOFError:
                raise StopReconcile from None
            head, _, rest = answer.partition(" ")
            if answer == "":
                return selection
            if answer == "q":
                raise StopReconcile
            if answer == "s":
                return None
            if answer == "b":
                if view.position[0] <= 1:
                    console.print("this is the first disputed segment", style="yellow")
                    continue
                return BACK
            if answer in ("h", "?"):
                console.print(HELP, markup=False, highlight=False)
                continue
            if answer == "-":
                return set()
            if answer == "u":
                selection = set().union(*view.codes.values())
            elif answer == "c":
                selection = set()
            elif answer.startswith("="):
                who = answer[1:].strip()
                name = names[int(who) - 1] if who.isdigit() and 1 <= int(who) <= len(names) \
                    else who if who in names else None
                if name is None:
                    console.print(f"no coder {who!r} here — use =1…={len(names)} or a name "
                                  f"({', '.join(names)})", style="yellow", markup=False)
                    continue
                selection = set(view.codes[name])
            elif head in ("d", "?") and rest:
                try:
                    option = resolve_code(rest, options)
                except LookupError as exc:
                    console.print(str(exc), style="yellow", markup=False, highlight=False)
                    continue
                draw_code(console, option)  # as `coder code` shows it
                continue
            else:
                try:
                    picked = [resolve_code(t, options) for t in answer.replace(",", " ").split()]
                except LookupError as exc:
                    console.print(str(exc), style="yellow", markup=False, highlight=False)
                    continue
                for option in dict.fromkeys(picked):
                    selection ^= {option.key}
            console.print(_selection(selection, by_key))

    return choose


def _draw(console, view, names, selection, by_key) -> None:
    n, total = view.position
    console.rule(Text(f"{view.transcript} segment {view.n} · disagreement {n} of {total}",
                      style="bold"))
    if view.question:
        console.print(Text.assemble(("Question: ", "bold dim"), (view.question, "dim")),
                      soft_wrap=False)
    console.print(Text.assemble((f"{view.speaker} ({view.n}): ", "bold"), view.text),
                  soft_wrap=False)
    table = Table(show_header=True, header_style="bold", expand=True, show_lines=False)
    for i, name in enumerate(names, start=1):
        table.add_column(f"={i} {name}", ratio=1, overflow="fold")
    table.add_row(*[Group(*[Text(f"{by_key[k].number if k in by_key else '?'} {k}")
                            for k in sorted(view.codes[name])] or [Text("(no code)")])
                    for name in names])
    if any(view.memos.get(name) for name in names):
        table.add_row(*[Text(f"memo: {view.memos[name]}" if view.memos.get(name) else "",
                             style="italic") for name in names])
    console.print(table, soft_wrap=False)
    console.print(Text.assemble(("differs on: ", "bold"), ", ".join(view.differs) or "—"))
    console.print(_selection(selection, by_key))
    console.print("Enter saves · numbers/keys toggle · =N a coder's codes · u union · - none · "
                  "c clear · b back · s later · d KEY · h help · q stop", style="dim")


def _selection(selection, by_key) -> Text:
    listed = ", ".join(f"{by_key[k].number if k in by_key else '?'} {k}"
                       for k in sorted(selection)) or "no code"
    return Text.assemble(("consensus: ", "bold"), listed)


def summary(report) -> str:
    """A truthful account of an interactive walk: what was settled, what is still open."""
    parts = [f"{report.consensus}: settled {report.settled} disagreement(s)"]
    if report.disputed:
        parts.append(f"{report.still_open} of the {report.disputed} open at the start are "
                     "still open" + (f" ({report.skipped} left for later)" if report.skipped
                                     else "")
                     + (" — run the same command again to go on" if report.still_open else ""))
    parts.append(f"{report.segments} segment(s) written, {report.codings} codings")
    return "; ".join(parts)
