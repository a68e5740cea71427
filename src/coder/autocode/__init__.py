"""Auto-coding: machine coders measured like any other coder.

- :mod:`coder.autocode.keywords` — the keyword coder (``auto:keywords``): the codebook's
  keywords and regular expressions matched against every participant segment. Pure Python.
- :mod:`coder.autocode.model` — the learned coder (``auto:model``): a scikit-learn text
  classifier trained on a person's (or the consensus's) decisions, cross-validated by
  transcript, stored in the project with its codebook version, applied to unreviewed segments.

Both store their output as ordinary reviews and codings (review source ``auto``), so
``coder agreement --coders alice,auto:model`` compares them with people like any other pair.

The names below are loaded lazily: importing this package does not import NumPy or
scikit-learn until a model function is asked for (SPEC §10).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

_KEYWORDS = {"KEYWORD_CODER", "KeywordReport", "inflections", "keyword_code", "keyword_pattern",
             "machine_coder_name", "match_codes"}
_MODEL = {"MODEL_CODER", "TrainedModel", "TrainingData", "build_pipeline", "check_examples",
          "cross_validate", "fit_model", "grouped_folds", "train_model", "training_data"}
_APPLY = {"ApplyReport", "apply_model", "require_model", "stored_models"}

__all__ = sorted(_KEYWORDS | _MODEL | _APPLY)

if TYPE_CHECKING:  # pragma: no cover
    from coder.autocode.keywords import (  # noqa: F401
        KEYWORD_CODER, KeywordReport, inflections, keyword_code, keyword_pattern,
        machine_coder_name, match_codes,
    )
    from coder.autocode.apply import (  # noqa: F401
        ApplyReport, apply_model, require_model, stored_models,
    )
    from coder.autocode.model import (  # noqa: F401
        MODEL_CODER, TrainedModel, TrainingData, build_pipeline, check_examples, cross_validate,
        fit_model, grouped_folds, train_model, training_data,
    )


def __getattr__(name: str):
    if name in _KEYWORDS:
        from coder.autocode import keywords

        return getattr(keywords, name)
    if name in _MODEL:
        from coder.autocode import model

        return getattr(model, name)
    if name in _APPLY:
        from coder.autocode import apply

        return getattr(apply, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
