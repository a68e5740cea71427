"""What changed between two codebooks: added, removed, renamed and edited codes.

Renames come from ``renamed_from:`` in the new codebook. Renaming a code also renames its
sub-codes that keep their own key (``a.x`` follows ``a`` → ``b`` to ``b.x``) unless they say
otherwise; :func:`rename_map` is the one place that rule lives (the store uses it to carry codings).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from coder.codebook.model import CONTENT_FIELDS, CodeTree


def rename_map(old_keys: Iterable[str], new: CodeTree) -> dict[str, str]:
    """``{old full key: new full key}`` for every key of ``old_keys`` that ``new`` renames.

    Explicit: a new code with ``renamed_from: OLD``, OLD not in ``new``. Implied: an old key below
    an explicitly renamed code maps to the same path below the new name, when that path exists in
    ``new``, the old key is not in ``new`` and no code claims it explicitly.
    """
    explicit = {code.renamed_from: code.key for code in new.codes
                if code.renamed_from and code.renamed_from not in new}
    mapping: dict[str, str] = {}
    for old in old_keys:
        if old in new:
            continue
        if old in explicit:
            mapping[old] = explicit[old]
            continue
        parts = old.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:cut])
            if prefix in explicit:
                candidate = explicit[prefix] + "." + ".".join(parts[cut:])
                if candidate in new:
                    mapping[old] = candidate
                break
    return mapping


@dataclass
class CodebookDiff:
    """Differences from ``old`` to ``new``, each list in the new (or old, for removals) order.

    ``changed`` maps a new full key to the names of its edited fields (label, definition, include,
    exclude, examples, keywords, colour); a renamed code is compared with its old self.
    """

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.renamed or self.changed)

    def summary(self) -> str:
        """One line: ``2 added, 1 removed, 1 renamed, 3 changed`` or ``no changes to codes``."""
        if self.is_empty:
            return "no changes to codes"
        parts = [(len(self.added), "added"), (len(self.removed), "removed"),
                 (len(self.renamed), "renamed"), (len(self.changed), "changed")]
        return ", ".join(f"{n} {what}" for n, what in parts if n)

    def to_dict(self) -> dict:
        return {"added": self.added, "removed": self.removed,
                "renamed": [{"from": a, "to": b} for a, b in self.renamed],
                "changed": self.changed}


def diff_codebooks(old: CodeTree, new: CodeTree) -> CodebookDiff:
    """Compare two codebooks (file specs or project versions) code by code."""
    old_keys = [code.key for code in old.codes]
    renames = rename_map(old_keys, new)
    counterpart = {new_key: old_key for old_key, new_key in renames.items()}
    diff = CodebookDiff()
    for code in new.codes:
        before = old.get(counterpart.get(code.key, code.key))
        if before is None:
            diff.added.append(code.key)
            continue
        if before.key != code.key:
            diff.renamed.append((before.key, code.key))
        fields = [f for f in CONTENT_FIELDS if getattr(before, f) != getattr(code, f)]
        if fields:
            diff.changed[code.key] = fields
    diff.removed = [key for key in old_keys if key not in new and key not in renames]
    return diff


def render_diff(diff: CodebookDiff, old: CodeTree | None = None,
                new: CodeTree | None = None) -> str:
    """The diff as text, one code per line, with labels when the codebooks are given::

        + added    a.new_code  New code
        - removed  a.old_code  Old code
        > renamed  a.before -> a.after
        ~ changed  a.x: definition, keywords
    """
    if diff.is_empty:
        return "no changes to codes\n"
    lines = []
    for key in diff.added:
        lines.append(f"+ added    {key}" + (f"  {new.label(key)}" if new else ""))
    for key in diff.removed:
        lines.append(f"- removed  {key}" + (f"  {old.label(key)}" if old else ""))
    for before, after in diff.renamed:
        lines.append(f"> renamed  {before} -> {after}")
    for key, fields in diff.changed.items():
        lines.append(f"~ changed  {key}: {', '.join(fields)}")
    lines.append(diff.summary())
    return "\n".join(lines) + "\n"
