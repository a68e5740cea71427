"""Who is who in a transcript: speaker renaming and the interviewer's label (SPEC §3).

:func:`parse_speaker_map` reads ``--speakers "SPEAKER_00=Interviewer, SPEAKER_01=KZ-04"`` (and
the metadata column ``speakers``); :func:`_find_interviewer` picks the interviewer among a
transcript's speakers by the metadata, the option, the labels of the study's languages
(:data:`INTERVIEWER_LABELS`) or the project's setting ``interviewer_labels``.
"""

from __future__ import annotations

from collections.abc import Iterable

from coder.errors import InputError

# The interviewer's label in the study's languages (compared case-folded, without a final dot);
# a project adds its own with `coder config set interviewer_labels '["Модератор"]'`.
INTERVIEWER_LABELS = ("interviewer", "q", "i", "int", "interviewer 1", "moderator",
                      "facilitator", "интервьюер", "вопрос", "и", "модератор", "ведущий",
                      "сұхбаттасушы", "интервьюер 1")


def _find_interviewer(speakers: list[str], meta_label: str | None, option: str | None,
                      labels: Iterable[str] = ()):
    """The speaker who is the interviewer: the label the metadata or option names, else the
    first speaker with one of :data:`INTERVIEWER_LABELS` or the project's ``labels``."""
    import unicodedata

    def key(label: str) -> str:
        return unicodedata.normalize("NFC", label).casefold().strip().rstrip(".").strip()

    wanted = meta_label or option
    if wanted:
        for s in speakers:
            if key(s) == key(wanted):
                return s
        return None
    known = set(INTERVIEWER_LABELS) | {key(label) for label in labels}
    for s in speakers:
        if key(s) in known:
            return s
    return None


def parse_speaker_map(value: str | None, source: str = "--speakers") -> dict[str, str]:
    """``"SPEAKER_00=Interviewer, SPEAKER_01=KZ-04"`` → ``{"SPEAKER_00": "Interviewer", …}``."""
    import re
    import unicodedata

    mapping: dict[str, str] = {}
    for item in re.split(r"[,;]", value or ""):
        if not item.strip():
            continue
        label, sep, name = item.partition("=")
        label, name = " ".join(label.split()), " ".join(name.split())
        if not sep or not label or not name:
            raise InputError(source, f"cannot read the speaker mapping {item.strip()!r}",
                             "write it as `SPEAKER_00=Interviewer, SPEAKER_01=KZ-04`")
        mapping[unicodedata.normalize("NFC", label)] = unicodedata.normalize("NFC", name)
    return mapping


def _rename_speakers(parsed, mapping: dict[str, str], warnings: list[str]) -> None:
    """Apply a speaker mapping to ``parsed.turns``; turns that now share a speaker merge."""
    from coder.importers.base import merge_turns

    if not mapping:
        return
    speakers = {t.speaker for t in parsed.turns}
    unknown = sorted(set(mapping) - speakers)
    if unknown and len(unknown) == len(mapping):
        warnings.append(f"{parsed.path}: the speaker mapping names {', '.join(unknown)}, "
                        f"but the speakers are {', '.join(sorted(speakers))} — nothing renamed")
        return
    if unknown:
        warnings.append(f"{parsed.path}: no speaker {', '.join(unknown)} to rename")
    for turn in parsed.turns:
        turn.speaker = mapping.get(turn.speaker, turn.speaker)
    sep = " " if parsed.format in ("vtt", "srt", "json", "table") else "\n\n"
    parsed.turns = merge_turns(parsed.turns, sep=sep)


def project_interviewer_labels(project) -> list[str]:
    """The project's setting ``interviewer_labels`` (a list, or one label), [] when unset."""
    if project is None:
        return []
    from coder.db.settings import get_setting

    with project.read() as conn:
        return interviewer_labels_value(get_setting(conn, "interviewer_labels", []))


def interviewer_labels_value(value) -> list[str]:
    """The setting ``interviewer_labels`` as a list of labels (one label, a list, or unset)."""
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value or []] if isinstance(value, list) else []


__all__ = ["INTERVIEWER_LABELS", "interviewer_labels_value", "parse_speaker_map",
           "project_interviewer_labels"]
