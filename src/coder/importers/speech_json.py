"""JSON that speech-to-text tools and transcription services write.

Recognized by shape, not by suffix (hand-written: each tool has its own schema; the stdlib
``json`` reads them):

- **WhisperX / faster-whisper / Whisper** — ``{"segments": [{"start", "end", "text",
  "speaker"?, "words"?}]}`` (or the bare list of segments): one cue per segment; the speaker is the segment's ``speaker``
  (WhisperX ``--diarize``), else the majority ``speaker`` of its words. Without any speaker the
  file is refused: diarization was off;
- **Rev.com** — ``{"monologues": [{"speaker", "speaker_name"?, "elements": [{"value", "ts"}]}]}``
  (the API) or ``{"speakers": [{"id", "name"}], "monologues": [{"speaker", "startTime",
  "spans": [{"value", "ts"}]}]}`` (the editor export): the text is the concatenation of the
  values, the start the monologue's ``startTime`` or its first timed element;
- **Amberscript** — ``{"speakers": [{"spkid", "name"}], "segments": [{"speaker", "words":
  [{"text", "start", "end"}]}]}``.

Anything else is :class:`NotATranscript`: a JSON file of an unknown shape.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from coder.errors import InputError
from coder.importers.base import NotATranscript, Turn


def looks_like(text: str) -> bool:
    return text.lstrip()[:1] in ("{", "[")


def parse(path: Path, text: str) -> tuple[list[Turn], dict[str, str]]:
    """JSON text → (unmerged turns, no metadata)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"malformed JSON ({exc.msg})",
                         "export the transcript again from the tool", line=exc.lineno) from None
    if isinstance(data, dict) and isinstance(data.get("monologues"), list):
        return _rev(path, data), {}
    if isinstance(data, list) and data and all(isinstance(s, dict) and "text" in s
                                               for s in data[:5]):
        return _whisper(path, data), {}  # a bare list of segments (faster-whisper scripts)
    if isinstance(data, dict) and isinstance(data.get("segments"), list):
        segments = data["segments"]
        if any(isinstance(s, dict) and isinstance(s.get("words"), list) and "text" not in s
               for s in segments[:5]):
            return _amberscript(path, data), {}
        return _whisper(path, segments), {}
    raise NotATranscript(path, "JSON of an unknown shape",
                         "give WhisperX, Rev.com or Amberscript JSON, or export the transcript "
                         "as text")


def _whisper(path: Path, segments: list) -> list[Turn]:
    turns: list[Turn] = []
    labelled = False
    for seg in segments:
        if not isinstance(seg, dict):
            continue
        text = str(seg.get("text") or "").strip()
        if not text:
            continue
        speaker = seg.get("speaker")
        if not speaker and isinstance(seg.get("words"), list):
            voices = Counter(w.get("speaker") for w in seg["words"]
                             if isinstance(w, dict) and w.get("speaker"))
            speaker = voices.most_common(1)[0][0] if voices else None
        labelled = labelled or bool(speaker)
        turns.append(Turn(str(speaker or ""), text, _number(seg.get("start")),
                          _number(seg.get("end"))))
    if not turns:
        return []
    if not labelled:
        raise InputError(path, "Whisper JSON without speakers (no `speaker` in any segment)",
                         "transcribe with diarization (whisperx --diarize) so that segments "
                         "carry SPEAKER_00, SPEAKER_01…")
    return _inherit(turns)


def _rev(path: Path, data: dict) -> list[Turn]:
    names = {}
    for s in data.get("speakers") or []:
        if isinstance(s, dict) and "id" in s:
            names[s["id"]] = str(s.get("name") or f"Speaker {s['id']}")
    turns = []
    for mono in data["monologues"]:
        if not isinstance(mono, dict):
            continue
        pieces = mono.get("elements") if isinstance(mono.get("elements"), list) else \
            mono.get("spans") if isinstance(mono.get("spans"), list) else []
        pieces = [p for p in pieces if isinstance(p, dict)]
        text = "".join(str(p.get("value") or "") for p in pieces).strip()
        if not text:
            continue
        times = [t for p in pieces if (t := _number(p.get("ts"))) is not None]
        ends = [t for p in pieces
                if (t := _number(p.get("end_ts", p.get("endTs")))) is not None]
        start = _number(mono.get("startTime"))
        speaker = mono.get("speaker_name") or names.get(mono.get("speaker"))
        if not speaker and mono.get("speaker") is not None:
            speaker = f"Speaker {mono['speaker']}"
        turns.append(Turn(str(speaker or ""), text, start if start is not None else
                          (min(times) if times else None), max(ends) if ends else None))
    return _inherit(turns)


def _amberscript(path: Path, data: dict) -> list[Turn]:
    names = {s.get("spkid"): str(s.get("name") or s.get("spkid"))
             for s in data.get("speakers") or [] if isinstance(s, dict)}
    turns = []
    for seg in data["segments"]:
        if not isinstance(seg, dict):
            continue
        words = [w for w in seg.get("words") or [] if isinstance(w, dict)]
        text = " ".join(str(w.get("text") or "").strip() for w in words).strip()
        if not text:
            continue
        speaker = seg.get("speaker")
        turns.append(Turn(names.get(speaker, str(speaker or "")), " ".join(text.split()),
                          _number(words[0].get("start")), _number(words[-1].get("end"))))
    return _inherit(turns)


def _inherit(turns: list[Turn]) -> list[Turn]:
    """A segment without a speaker continues the one before (the first labelled, at the top)."""
    first = next((t.speaker for t in turns if t.speaker), None)
    previous = first
    for turn in turns:
        if turn.speaker:
            previous = turn.speaker
        elif previous is not None:
            turn.speaker, turn.guessed = previous, True
    return turns


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else None
