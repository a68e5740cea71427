"""Inter-coder agreement: pure statistics on units × coders arrays (SPEC §6–§7).

The statistics live in :mod:`coder.agreement.stats` and are re-exported here lazily, so that
importing a sibling module (say, the one assembling unit matrices from the database) does not
load NumPy until a statistic is asked for (SPEC §10).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = [
    "AgreementInputError",
    "MAX_CATEGORIES",
    "alpha_below",
    "binary_alpha_many",
    "binary_stats_many",
    "brennan_prediger",
    "cohen_kappa",
    "conger_kappa",
    "fleiss_kappa",
    "from_contingency",
    "from_counts",
    "gwet_ac1",
    "gwet_ac2",
    "krippendorff_alpha",
    "krippendorff_alpha_bootstrap",
    "krippendorff_alpha_ci",
    "percent_agreement",
    "scott_pi",
]

if TYPE_CHECKING:  # pragma: no cover
    from coder.agreement.stats import (  # noqa: F401
        MAX_CATEGORIES,
        AgreementInputError,
        alpha_below,
        binary_alpha_many,
        binary_stats_many,
        brennan_prediger,
        cohen_kappa,
        conger_kappa,
        fleiss_kappa,
        from_contingency,
        from_counts,
        gwet_ac1,
        gwet_ac2,
        krippendorff_alpha,
        krippendorff_alpha_bootstrap,
        krippendorff_alpha_ci,
        percent_agreement,
        scott_pi,
    )


def __getattr__(name: str):
    if name in __all__:
        from coder.agreement import stats

        return getattr(stats, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
