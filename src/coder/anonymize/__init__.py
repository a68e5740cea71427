"""Personal data in transcripts: find it, pseudonymize it, and keep it out of the project.

- :func:`load_identifiers` reads the team's key file (name → pseudonym; public names allowed),
  kept outside the project and never stored in the database;
- :func:`scan_text` / :func:`scan_paths` return :class:`Finding` objects (file, line, column,
  kind, text, suggested replacement); :func:`check_output` raises :class:`PiiFound` for text
  about to be written (quotes, exports);
- :func:`pseudonymize_text` / :func:`anonymize_paths` write pseudonymized copies;
- :class:`ImportGate` is the check ``coder import`` runs unless ``--allow-pii``.

Detection rules are in :mod:`coder.anonymize.detect`, name variants in
:mod:`coder.anonymize.identifiers`, the gate in :mod:`coder.anonymize.gate`. Only the standard library is imported here (spaCy, for
the optional ``ner=True``, and python-docx load on use), so the import gate costs little.
"""

from __future__ import annotations

from coder.anonymize.detect import (
    KINDS, PLACEHOLDERS, Finding, Pseudonyms, ner_available, scan_file, scan_paths, scan_text,
)
from coder.anonymize.gate import ImportGate, PiiFound, check_output
from coder.anonymize.identifiers import Identifier, Identifiers, load_identifiers
from coder.anonymize.pseudonymize import AnonymizeReport, anonymize_paths, pseudonymize_text

__all__ = ["KINDS", "PLACEHOLDERS", "AnonymizeReport", "Finding", "Identifier", "Identifiers",
           "ImportGate", "PiiFound", "Pseudonyms", "anonymize_paths", "check_output",
           "load_identifiers", "ner_available", "pseudonymize_text", "scan_file", "scan_paths",
           "scan_text"]
