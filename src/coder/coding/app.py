"""The full-screen coding app of ``coder code`` (Textual).

A skin over :class:`coder.coding.session.CodingSession`: every key becomes one session command
(the same state machine the line mode and the tests drive), so every decision is still one
write transaction, committed before the next segment is drawn. Only this module imports
Textual, and only ``coder code`` in a terminal imports this module.

Layout (works from 80×24 up): a title line with per-transcript and overall progress; the
transcript on the left — the turns before the current one (the interviewer's question last),
the current turn highlighted, the turns after it, all scrollable; the codebook on the right,
numbered, with the highlighted code's definition below it (``d``: criteria and examples);
a status line for what the session answers; the key reminder at the bottom.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, SelectionList, Static
from textual.widgets.option_list import Option

SENTENCE = re.compile(r"[^.!?…]+(?:[.!?…]+[\"»”)]*|$)\s*")
DIGIT_WAIT = 0.7  # seconds to wait for a second digit when a code number could go on


def sentences(text: str) -> list[tuple[int, int, str]]:
    """The sentences of a turn as ``(start, end, text)``, ends without trailing spaces."""
    out = []
    for m in SENTENCE.finditer(text):
        chunk = m.group()
        if chunk.strip():
            start = m.start() + (len(chunk) - len(chunk.lstrip()))
            end = m.start() + len(chunk.rstrip())
            out.append((start, end, text[start:end]))
    return out


class SpanScreen(ModalScreen):
    """Pick the sentence(s) of the turn that carry one code."""

    BINDINGS = [Binding("escape", "cancel", "cancel"),
                Binding("enter", "done", "mark", priority=True),
                Binding("w", "whole", "whole turn")]

    def __init__(self, key: str, text: str, current: tuple[int, int] | None):
        super().__init__()
        self.key, self.text, self.current = key, text, current
        self.parts = sentences(text)

    def compose(self) -> ComposeResult:
        chosen = self.current or (-1, -1)
        items = [(Text(s[2]), i, chosen[0] <= s[0] and s[1] <= chosen[1])
                 for i, s in enumerate(self.parts)]
        with Vertical(id="span-box"):
            yield Static(f"Mark the sentences that carry {self.key} — space toggles, "
                         "Enter marks, w whole turn, Esc cancels", id="span-title")
            yield SelectionList(*items, id="span-list")

    def on_mount(self) -> None:
        chooser = self.query_one(SelectionList)
        chooser.focus()
        if self.parts:
            chooser.highlighted = 0

    def action_done(self) -> None:
        picked = sorted(self.query_one(SelectionList).selected)
        if not picked:
            self.dismiss(("whole", None))
            return
        self.dismiss(("span", (self.parts[picked[0]][0], self.parts[picked[-1]][1])))

    def action_whole(self) -> None:
        self.dismiss(("whole", None))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmQuit(ModalScreen):
    """Quitting with an unsaved selection asks."""

    BINDINGS = [Binding("s", "choose('save')", "save and quit"),
                Binding("q", "choose('quit')", "quit without saving"),
                Binding("escape", "choose('stay')", "keep coding")]

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static("The selection on this segment is not saved.\n\n"
                         "s  save it, then quit\nq  quit without saving it\n"
                         "Esc  keep coding", id="confirm-text")

    def action_choose(self, what: str) -> None:
        self.dismiss(what)


class CodingApp(App):
    """``coder code`` in a terminal. ``session`` is a :class:`CodingSession`."""

    TITLE = "coder code"
    AUTO_FOCUS = None  # keys go to the app; the prompt takes focus only while it is shown
    CSS = """
    Screen { layout: vertical; }
    #title { height: 1; background: $primary; color: $text; padding: 0 1; }
    #main { height: 1fr; }
    #transcript { width: 3fr; padding: 0 1; }
    #side { width: 2fr; min-width: 30; border-left: solid $primary; }
    #codes { height: 1fr; border: none; }
    #details { height: auto; max-height: 45%; padding: 0 1; border-top: solid $primary; }
    #status { height: auto; max-height: 3; padding: 0 1; color: $warning; }
    #prompt { height: 3; display: none; }
    #prompt.shown { display: block; }
    .before, .after { color: $text-muted; }
    .question { text-style: bold; color: $text-muted; }
    #turn { background: $boost; padding: 0 1; border-left: thick $accent; }
    #span-box, #confirm-box { width: 80%; height: auto; max-height: 80%;
                              background: $surface; border: solid $accent; padding: 1; }
    SpanScreen, ConfirmQuit { align: center middle; }
    """
    BINDINGS = [
        Binding("enter", "save", "save+next"),
        Binding("minus", "no_code", "no code"),
        Binding("space", "toggle_highlighted", "toggle", show=False),
        Binding("up", "highlight(-1)", "up", show=False),
        Binding("down", "highlight(1)", "down", show=False),
        Binding("slash", "filter", "filter codes"),
        Binding("m", "memo", "memo"),
        Binding("v", "span", "mark span"),
        Binding("a", "accept", "accept model"),
        Binding("u", "undo", "undo"),
        Binding("b,left", "back", "back"),
        Binding("f,right", "forward", "fwd", show=False),
        Binding("s", "skip", "skip", show=False),
        Binding("j", "jump", "jump", show=False),
        Binding("ctrl+f", "search", "search", show=False),
        Binding("d", "details", "details", show=False),
        Binding("question_mark,h", "help", "help"),
        Binding("q", "quit_session", "quit"),
    ]

    def __init__(self, session, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.digits = ""
        self._digit_timer = None
        self.show_details = False
        self.prompt_kind: str | None = None
        self.filter_text = ""
        self.result = "done"

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        with Horizontal(id="main"):
            with VerticalScroll(id="transcript"):
                yield Static(id="before", classes="before")
                yield Static(id="turn")
                yield Static(id="after", classes="after")
            with Vertical(id="side"):
                codes = OptionList(id="codes")
                codes.can_focus = False
                yield codes
                yield Static(id="details")
        yield Static(id="status")
        prompt = Input(id="prompt")
        prompt.can_focus = False
        yield prompt
        yield Footer()

    def on_mount(self) -> None:
        self.redraw(moved=True)

    # ------------------------------------------------------------------ drawing

    def redraw(self, *, moved: bool = False, notes: list[str] | None = None) -> None:
        s = self.session
        view = s.view
        if notes is not None:
            self.query_one("#status", Static).update("\n".join(notes[-3:]))
        if view is None:
            return
        done, total = s.progress
        tdone, ttotal = s.transcript_progress()
        turn = view.turn
        when = f" [{_clock(turn.start)}]" if turn.start is not None else ""
        self.query_one("#title", Static).update(Text.assemble(
            (f"{s.coder}", "bold"), f" · {view.transcript} segment {turn.n}{when} · ",
            f"{view.transcript} {tdone}/{ttotal} · all {done}/{total}"
            f" ({100 * done // total if total else 0}%)"))
        if moved:
            self._draw_context()
        self._draw_codes()
        self._draw_details()

    def _draw_context(self) -> None:
        s = self.session
        view = s.view
        before, after = s.context(before=3, after=2)
        lines = []
        for t in before:
            style = "bold" if t.role == "interviewer" and t is before[-1] else ""
            lines.append(Text.assemble((f"{t.speaker} ({t.n}): ", "bold"), (t.text, style)))
        self.query_one("#before", Static).update(Text("\n\n").join(lines) if lines else "")
        self.query_one("#turn", Static).update(self._turn_text())
        self.query_one("#after", Static).update(Text("\n\n").join(
            Text.assemble((f"{t.speaker} ({t.n}): ", "bold"), t.text) for t in after)
            if after else "")
        attrs = "  ".join(f"{k}={v}" for k, v in sorted(view.attributes.items()))
        if attrs:
            self.query_one("#before", Static).border_title = attrs
        self.query_one("#transcript", VerticalScroll).scroll_to_widget(
            self.query_one("#turn", Static), animate=False, top=True)

    def _turn_text(self) -> Text:
        s = self.session
        turn = s.view.turn
        text = Text.assemble((f"{turn.speaker} ({turn.n}): ", "bold"))
        body = Text(turn.text)
        for start, end in s.spans.values():
            body.stylize("underline reverse", start, end)
        text.append(body)
        if s.view.suggestions:
            hints = " · ".join(f"{s.code(k).number if s.code(k) else ''} {k} {p:.2f}"
                               for k, p in s.view.suggestions[:5])
            text.append(f"\nmodel suggests: {hints}  (a accepts)", style="italic")
        if s.view.stored is not None:
            codes = ", ".join(sorted(s.view.stored[0])) or "no code"
            text.append(f"\nsaved: {codes}", style="green")
        if s.memo:
            text.append(f"\nmemo: {s.memo}", style="italic")
        return text

    def _visible_codes(self) -> list:
        wanted = self.filter_text.casefold()
        return [c for c in self.session.codes
                if not wanted or wanted in c.key.casefold() or wanted in c.label.casefold()]

    def _draw_codes(self) -> None:
        s = self.session
        codes = self.query_one("#codes", OptionList)
        highlighted = codes.highlighted
        codes.clear_options()
        options = []
        for c in self._visible_codes():
            mark = "■" if c.key in s.selection else "□"
            span = " ¶" if c.key in s.spans else ""
            label = Text.assemble((f"{c.number:>2} ", "bold"), f"{mark} ",
                                  ("  " * c.depth), (c.label, "bold" if c.depth == 0 else ""),
                                  (span, "bold"))
            options.append(Option(label, id=c.key))
        codes.add_options(options)
        if options:
            codes.highlighted = min(highlighted or 0, len(options) - 1)

    def _highlighted_code(self):
        codes = self.query_one("#codes", OptionList)
        if codes.highlighted is None or codes.option_count == 0:
            return None
        return self.session.code(codes.get_option_at_index(codes.highlighted).id)

    def _draw_details(self) -> None:
        code = self._highlighted_code()
        panel = self.query_one("#details", Static)
        if code is None:
            panel.update("")
            return
        text = Text.assemble((f"{code.number} {code.key}", "bold"), "\n", code.definition or "")
        if self.show_details:
            for title, items in (("include", code.include), ("exclude", code.exclude),
                                 ("example", code.examples)):
                for item in items:
                    text.append(f"\n{title}: ", style="bold")
                    text.append(item)
        else:
            text.append("\n(d: criteria and examples)", style="dim")
        panel.update(text)

    # ------------------------------------------------------------------ the session

    def run_command(self, line: str) -> None:
        step = self.session.handle(line)
        self.after(step)

    def after(self, step) -> None:
        if step.finished:
            self.notify(f"Transcript {step.finished} is done.", title="done", timeout=6)
        if step.help:
            from coder.coding.session import HELP

            step.notes.append(HELP.splitlines()[0] + " — the footer lists the keys; "
                              "see `coder code --help`")
        if step.code is not None:
            step.notes.append(f"{step.code.number} {step.code.key}: {step.code.definition}")
        if step.end:
            self.result = step.end
            self.exit(step.end)
            return
        self.redraw(moved=step.moved, notes=step.notes)

    # ------------------------------------------------------------------ keys

    def on_key(self, event) -> None:
        if self.prompt_kind is not None or not event.character:
            return
        if event.character.isdigit():
            event.stop()
            self.digits += event.character
            n = len(self.session.codes)
            if self._digit_timer is not None:
                self._digit_timer.stop()
            if int(self.digits) * 10 > n or len(self.digits) >= len(str(n)):
                self._flush_digits()
            else:
                self._digit_timer = self.set_timer(DIGIT_WAIT, self._flush_digits)

    def _flush_digits(self) -> None:
        digits, self.digits, self._digit_timer = self.digits, "", None
        if digits and int(digits) > 0:
            self.run_command(digits)

    def action_save(self) -> None:
        self._flush_digits()
        self.run_command("")

    def action_no_code(self) -> None:
        self.run_command("-")

    def action_toggle_highlighted(self) -> None:
        code = self._highlighted_code()
        if code is not None:
            self.run_command(str(code.number))

    def action_highlight(self, delta: int) -> None:
        codes = self.query_one("#codes", OptionList)
        if codes.option_count:
            codes.highlighted = max(0, min(codes.option_count - 1,
                                           (codes.highlighted or 0) + delta))
            self._draw_details()

    def action_details(self) -> None:
        self.show_details = not self.show_details
        self._draw_details()

    def action_back(self) -> None:
        self.run_command("b")

    def action_forward(self) -> None:
        self.run_command("f")

    def action_skip(self) -> None:
        self.run_command("s")

    def action_accept(self) -> None:
        self.run_command("a")

    def action_undo(self) -> None:
        self.run_command("u")

    def action_help(self) -> None:
        self.run_command("h")

    def action_memo(self) -> None:
        self._ask("memo", "memo (Enter keeps it with the decision; empty clears it):",
                  self.session.memo or "")

    def action_jump(self) -> None:
        self._ask("jump", "jump to N, ID:N or ID:")

    def action_search(self) -> None:
        self._ask("search", "find in the participant segments:")

    def action_filter(self) -> None:
        self._ask("filter", "filter codes (Enter toggles the first match):", self.filter_text)

    def _ask(self, kind: str, placeholder: str, value: str = "") -> None:
        self.prompt_kind = kind
        prompt = self.query_one("#prompt", Input)
        prompt.placeholder = placeholder
        prompt.value = value
        prompt.add_class("shown")
        prompt.can_focus = True
        prompt.focus()

    @on(Input.Changed, "#prompt")
    def _typed(self, event: Input.Changed) -> None:
        if self.prompt_kind == "filter":
            self.filter_text = event.value
            self._draw_codes()
            self._draw_details()

    @on(Input.Submitted, "#prompt")
    def _submitted(self, event: Input.Submitted) -> None:
        kind, value = self.prompt_kind, event.value.strip()
        self._close_prompt()
        if kind == "memo":
            self.run_command(f"m {value}" if value else "m")
        elif kind == "jump" and value:
            self.run_command(f"j {value}")
        elif kind == "search" and value:
            self.run_command(f"/ {value}")
        elif kind == "filter":
            code = self._highlighted_code()
            self.filter_text = ""
            if code is not None and value:
                self.run_command(str(code.number))
            else:
                self.redraw()

    def _close_prompt(self) -> None:
        prompt = self.query_one("#prompt", Input)
        prompt.remove_class("shown")
        prompt.blur()
        prompt.can_focus = False
        self.prompt_kind = None

    def key_escape(self) -> None:
        if self.prompt_kind is not None:
            if self.prompt_kind == "filter":
                self.filter_text = ""
            self._close_prompt()
            self.redraw()

    def action_span(self) -> None:
        code = self._highlighted_code()
        if code is None or self.session.view is None:
            return

        def marked(result) -> None:
            if result is None:
                return
            kind, span = result
            step = self.session.set_span(code.key, span if kind == "span" else None)
            self.after(step)
            self._draw_context()

        self.push_screen(SpanScreen(code.key, self.session.view.turn.text,
                                    self.session.spans.get(code.key)), marked)

    def action_quit_session(self) -> None:
        if not self.session.changed:
            self.run_command("q")
            return

        def chosen(what: str) -> None:
            if what == "save":
                step = self.session.handle("")
                self.after(step)
                if not step.end:
                    self.result = "quit"
                    self.exit("quit")
            elif what == "quit":
                self.session.handle("q")  # arms the confirmation
                self.run_command("q")

        self.push_screen(ConfirmQuit(), chosen)


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
