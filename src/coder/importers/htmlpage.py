"""HTML transcripts: Word's "Save as Web Page" and noScribe's HTML output.

The stdlib :class:`html.parser.HTMLParser` (never a browser: no script runs, nothing is
fetched) turns the body into paragraphs — one per ``<p>``, ``<div>``, ``<li>``, heading or table
row, ``<br>`` a line break inside it — with entities decoded; ``<head>``, ``<style>`` and
``<script>`` are skipped. The paragraphs then follow the Word rules of
:mod:`coder.importers.docx` (``Label: text``, Teams/Otter headers, time marks), so a label split
by a tag (``M<FONT>SM:</FONT>``) reads as one. The charset a page declares (``<meta
charset>``, ``http-equiv``) is honoured unless ``--encoding`` is given.
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

from coder.importers import docx
from coder.importers.base import Turn

_BLOCKS = frozenset("p div li h1 h2 h3 h4 h5 h6 tr table ul ol dd dt blockquote pre section "
                    "article body dir center".split())
_SKIP = frozenset("head style script title template noscript".split())
_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)


def looks_like(text: str) -> bool:
    head = text.lstrip()[:2048].lower()
    return head.startswith(("<!doctype html", "<html")) or (
        head.startswith("<") and ("<body" in head or "<p" in head) and "</" in head)


def declared_charset(data: bytes) -> str | None:
    """The charset named in the first 4 KiB of an HTML page, or None."""
    match = _DECLARED.search(data[:4096])
    return match.group(1).decode("ascii", "replace") if match else None


class _Paragraphs(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[int, str]] = []
        self.current: list[str] = []
        self.start = 1
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self.skipping += 1
        elif tag == "br":
            self.current.append("\n")
        elif tag in _BLOCKS:
            self.flush()

    def handle_startendtag(self, tag, attrs):
        if tag == "br":
            self.current.append("\n")

    def handle_endtag(self, tag):
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCKS:
            self.flush()

    def handle_data(self, data):
        if not self.skipping:
            if not self.current:
                self.start = self.getpos()[0]
            # a line end in the page source is a space; only <br> breaks a line
            self.current.append(data.replace("\r", " ").replace("\n", " "))

    def flush(self):
        if self.current:
            raw = "".join(self.current)
            lines = [" ".join(line.split()) for line in raw.split("\n")]
            text = "\n".join(line for line in lines if line)
            if text:
                self.blocks.append((self.start, unicodedata.normalize("NFC", text)))
        self.current = []


def parse(path: Path, text: str) -> tuple[list[Turn], dict[str, str]]:
    """HTML text → (unmerged turns, no metadata)."""
    reader = _Paragraphs()
    reader.feed(text)
    reader.close()
    reader.flush()
    return docx.parse_blocks(reader.blocks), {}
