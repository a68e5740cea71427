"""The language-model coder's prompt, answer schema and answer validation.

The prompt is built from the codebook only (labels, definitions, inclusion and exclusion
criteria, examples) plus the interviewer's question before the turn and the turn itself, so
that what the model was asked is fully determined by the project and recorded with every
request. The answer is constrained to JSON by a schema of the codebook's keys
(:func:`answer_schema`) and checked by :func:`parse_answer`: an answer that does not parse, names
a code that is not in the codebook, or quotes words that are not in the turn is *invalid*; it is
retried and, failing that, recorded as a failure — never repaired or guessed.

No third-party imports: this module is on the path of ``--dry-run``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from coder.codebook.model import CodebookInfo, CodeSpec, theme_of

#: Bump when the wording below changes: the version is part of the template hash recorded
#: with every run, so a changed template never replays an answer given to another prompt.
TEMPLATE_VERSION = 1

SYSTEM = (
    "You are a careful qualitative researcher coding one turn of an expert interview against "
    "a thematic codebook. Apply a code only when the turn itself meets the code's definition "
    "and inclusion criteria and none of its exclusion criteria; the interviewer's question is "
    "context only and is never coded. Apply as many codes as the turn meets, or none. For "
    "each code give a one-sentence rationale and quote the exact words of the turn that "
    "support it (copied verbatim, at most a few sentences). Answer with one JSON object and "
    "nothing else."
)

INSTRUCTION = (
    'Answer with a JSON object of the form {"codes": [{"code": KEY, "rationale": "...", '
    '"quote": "exact words from the turn"}]}. KEY is one of the keys listed in the codebook. '
    'Use {"codes": []} when no code applies.'
)


@dataclass(frozen=True)
class Prompt:
    """The chat messages for one segment, and the text the personal-data gate checks."""

    segment_id: int
    messages: list[dict]

    @property
    def text(self) -> str:
        return "\n\n".join(m["content"] for m in self.messages)


def coded_keys(codebook: CodebookInfo, level: str) -> list[str]:
    """The keys the model may answer with: themes, or every code that can be applied
    (``level="codes"``: no category, which only groups its sub-codes)."""
    return [c.key for c in codebook.codes
            if (level == "codes" and c.codable) or c.parent is None]


def codebook_section(codebook: CodebookInfo, level: str) -> str:
    """The codebook as the model reads it: one block per code, in codebook order."""
    keys = set(coded_keys(codebook, level))
    blocks = [f"Codebook: {codebook.name} (version {codebook.version})"]
    for code in codebook.codes:
        if code.key in keys:
            blocks.append(_code_block(code))
    return "\n\n".join(blocks)


def _code_block(code: CodeSpec) -> str:
    lines = [f"- key: {code.key}", f"  label: {code.label}"]
    if code.parent:
        lines.append(f"  sub-code of: {code.parent}")
    if code.definition:
        lines.append(f"  definition: {_one_line(code.definition)}")
    for name, items in (("include when", code.include), ("exclude when", code.exclude),
                        ("examples", code.examples)):
        lines += [f"  {name}:"] + [f"    * {_one_line(item)}" for item in items] if items else []
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def build_prompt(segment_id: int, codebook_text: str, question: str | None, speaker: str,
                 turn: str) -> Prompt:
    """The messages for one participant turn (``question``: the interviewer turn before it)."""
    parts = [codebook_text]
    parts.append("Interviewer's question before the turn:\n"
                 + (question.strip() if question else "(none: the interview starts with this "
                    "turn)"))
    parts.append(f"Turn to code (speaker {speaker}):\n{turn.strip()}")
    parts.append(INSTRUCTION)
    return Prompt(segment_id, [{"role": "system", "content": SYSTEM},
                               {"role": "user", "content": "\n\n".join(parts)}])


def template_sha256() -> str:
    """Identifies the prompt template (system text, instruction, layout version)."""
    blob = json.dumps([TEMPLATE_VERSION, SYSTEM, INSTRUCTION], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def answer_schema(keys: list[str]) -> dict:
    """JSON Schema of a valid answer: ``codes`` is a list of {code, rationale, quote}."""
    return {
        "type": "object",
        "properties": {
            "codes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string", "enum": list(keys)},
                        "rationale": {"type": "string", "maxLength": 600},
                        "quote": {"type": "string", "maxLength": 2000},
                    },
                    "required": ["code", "rationale", "quote"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["codes"],
        "additionalProperties": False,
    }


class InvalidAnswer(ValueError):
    """The model's answer is not a valid coding (the message says why)."""


@dataclass
class CodeAnswer:
    code: str
    rationale: str
    quote: str
    span: tuple[int, int] | None  # character offsets of the quote in the turn


@dataclass
class Answer:
    codes: list[CodeAnswer] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return [c.code for c in self.codes]

    def as_json(self) -> dict:
        return {"codes": [{"code": c.code, "rationale": c.rationale, "quote": c.quote,
                           "span": list(c.span) if c.span else None} for c in self.codes]}


_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*?)\n\s*```\s*$", re.S)


def parse_answer(content: str | None, keys: list[str], turn: str) -> Answer:
    """Check the model's message ``content`` against the schema and the turn.

    Accepted: exactly one JSON object (optionally inside one Markdown code fence, which small
    local models add even when asked not to). Refused with :class:`InvalidAnswer`: anything
    else, unknown or missing fields, a key not in ``keys``, an empty rationale, or a quote that
    is not in the turn (compared with whitespace collapsed and case ignored). A code given twice
    keeps its first rationale.
    """
    if content is None or not content.strip():
        raise InvalidAnswer("empty answer")
    fenced = _FENCE.match(content)
    body = fenced.group(1) if fenced else content
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise InvalidAnswer(f"not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(data, dict) or set(data) != {"codes"} or not isinstance(data["codes"],
                                                                               list):
        raise InvalidAnswer('not an object with exactly one field "codes" (a list)')
    allowed = set(keys)
    answer, seen = Answer(), set()
    for i, item in enumerate(data["codes"]):
        if not isinstance(item, dict) or set(item) != {"code", "rationale", "quote"}:
            raise InvalidAnswer(f"codes[{i}] is not an object with code, rationale and quote")
        code, rationale, quote = item["code"], item["rationale"], item["quote"]
        if not all(isinstance(v, str) for v in (code, rationale, quote)):
            raise InvalidAnswer(f"codes[{i}]: code, rationale and quote must be strings")
        if code not in allowed:
            raise InvalidAnswer(f"codes[{i}]: {code!r} is not a key of the codebook")
        if not rationale.strip():
            raise InvalidAnswer(f"codes[{i}]: the rationale is empty")
        span = find_quote(turn, quote)
        if quote.strip() and span is None:
            raise InvalidAnswer(f"codes[{i}]: the quote is not in the turn: {quote[:80]!r}")
        if code in seen:
            continue
        seen.add(code)
        answer.codes.append(CodeAnswer(code, " ".join(rationale.split()), quote.strip(), span))
    return answer


def find_quote(turn: str, quote: str) -> tuple[int, int] | None:
    """Offsets ``(start, end)`` of ``quote`` in ``turn``, whitespace collapsed, case ignored;
    None when it is not there (or empty)."""
    words = quote.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    m = re.search(pattern, turn, re.IGNORECASE)
    return (m.start(), m.end()) if m else None


def stored_keys(keys: list[str]) -> list[str]:
    """The keys to store: a code is dropped when one of its sub-codes is also given (the
    sub-code's key already implies it)."""
    keep = set(keys)
    return sorted(k for k in keep if not any(o.startswith(k + ".") for o in keep))
