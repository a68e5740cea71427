"""Coding: decisions of coders on segments, codings import/export, review coverage (SPEC §5–6)."""
