"""Figures for papers: PNG or SVG, drawn with matplotlib's Agg canvas (no pyplot, no display).

- :func:`plot_theme_heatmap`: keys × groups, colour = share, each cell annotated with its count
  and share (suppressed cells grey, ``<K``);
- :func:`plot_cooccurrence`: keys × keys, colour = Jaccard index, annotated with counts;
- :func:`plot_saturation`: new codes per interview (bars) and the cumulative number of codes
  (line), with the saturation point marked.

The provenance goes into the file's metadata: PNG text chunks (Title, Description, Software,
Source, Comment) or SVG Dublin Core fields (without a date, so the file is reproducible).
matplotlib is imported inside these functions only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from coder.errors import CoderError

if TYPE_CHECKING:  # pragma: no cover
    from coder.reports.cooccurrence import CooccurrenceTable
    from coder.reports.frequencies import ThemeTable
    from coder.reports.provenance import Provenance
    from coder.reports.saturation import SaturationCurve

FIGURE_SUFFIXES = (".png", ".svg")


def check_figure_path(path: Path) -> str:
    """The format of a figure file from its suffix (``png`` or ``svg``), or a CoderError."""
    suffix = Path(path).suffix.lower()
    if suffix not in FIGURE_SUFFIXES:
        raise CoderError(f"{path}: a figure must be .png or .svg — e.g. --plot "
                         "themes-by-country.png")
    if not Path(path).parent.exists():
        raise CoderError(f"{path}: folder {Path(path).parent} does not exist — create it or "
                         "choose another path")
    return suffix[1:]


def _label(labels: dict[str, str], key: str) -> str:
    from coder.reports.export import row_label

    return row_label(labels, key)


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=150)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path, provenance: "Provenance", title: str) -> None:
    import matplotlib

    fmt = check_figure_path(path)
    metadata = (provenance.png_metadata(title) if fmt == "png"
                else provenance.svg_metadata(title))
    from coder.fileio import atomic_write

    def save(tmp: Path) -> None:
        with matplotlib.rc_context({"svg.hashsalt": provenance.project_hash[:16],
                                    "svg.fonttype": "path"}):
            fig.savefig(tmp, format=fmt, metadata=metadata, bbox_inches="tight")

    atomic_write(path, save)


def _annotate(ax, values, texts, cmap, norm, missing: str = "#dddddd") -> None:
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            if value is None:
                colour = "black"
            else:
                r, g, b, _ = cmap(norm(value))
                colour = "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"
            ax.text(j, i, texts[i][j], ha="center", va="center", fontsize=7, color=colour)


def _matrix(values):
    import numpy as np

    return np.ma.masked_invalid(np.array([[np.nan if v is None else v for v in row]
                                          for row in values], dtype=float))


def plot_theme_heatmap(table: "ThemeTable", path: Path) -> None:
    """Keys × groups heatmap of shares, annotated ``count`` and ``share%``."""
    import matplotlib
    from matplotlib.colors import Normalize

    from coder.reports.export import theme_title

    check_figure_path(path)
    values, texts = [], []
    for key in table.keys:
        row, text = [], []
        for g in table.groups:
            if table.suppressed(g, key):
                row.append(None)
                text.append(f"<{table.min_cell}")
                continue
            cell = table.cell(g, key)
            row.append(cell.share)
            flag = "*" if table.small(g, key) else ""
            pct = "" if cell.share is None else f"\n{cell.share * 100:.0f}%"
            text.append(f"{table.count(g, key)}{flag}{pct}")
        values.append(row)
        texts.append(text)
    fig = _figure(1.6 + 1.05 * len(table.groups), 1.2 + 0.5 * len(table.keys))
    ax = fig.add_subplot()
    cmap = matplotlib.colormaps["Blues"].with_extremes(bad="#dddddd")
    norm = Normalize(0, 1)
    image = ax.imshow(_matrix(values), cmap=cmap, norm=norm, aspect="auto")
    _annotate(ax, values, texts, cmap, norm)
    ax.set_xticks(range(len(table.groups)),
                  [f"{g}\n(N={table.base(g)})" for g in table.groups], fontsize=8)
    ax.set_yticks(range(len(table.keys)), [_label(table.labels, k) for k in table.keys],
                  fontsize=8)
    ax.tick_params(length=0)
    ax.set_xlabel(table.by)
    colorbar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    colorbar.set_label("share of participants" if table.unit == "participants"
                       else "share of segments", fontsize=8)
    ax.set_title(theme_title(table).split(":")[0] + f" (coder: {table.coder})", fontsize=10)
    _save(fig, path, table.provenance, theme_title(table))


def plot_cooccurrence(table: "CooccurrenceTable", path: Path) -> None:
    """Keys × keys heatmap: colour = Jaccard index of the pair (diagonal grey), annotated
    with segment counts."""
    import matplotlib
    from matplotlib.colors import Normalize

    from coder.reports.export import cooccurrence_title

    check_figure_path(path)
    cmap = matplotlib.colormaps["Oranges"].with_extremes(bad="#e4e4e4")
    # the diagonal (Jaccard 1 by definition) is shown grey, so the scale serves the pairs
    off = [[None if i == j else v for j, v in enumerate(row)]
           for i, row in enumerate(table.jaccard)]
    norm = Normalize(0, max([v for row in off for v in row if v is not None] + [0]) or 1)
    labels = [_label(table.labels, k) for k in table.keys]
    size = 2.5 + 0.6 * len(table.keys)
    fig = _figure(size + 1.5, size)
    ax = fig.add_subplot()
    image = ax.imshow(_matrix(off), cmap=cmap, norm=norm)
    _annotate(ax, off, [[str(v) for v in row] for row in table.counts], cmap, norm)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.tick_params(length=0)
    colorbar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    colorbar.set_label("Jaccard index", fontsize=8)
    ax.set_title(f"Co-occurrence ({table.segments} segments; coder: {table.coder})",
                 fontsize=10)
    _save(fig, path, table.provenance, cooccurrence_title(table))


def plot_saturation(curve: "SaturationCurve", path: Path) -> None:
    """Bars: new codes per interview; line: cumulative codes; dashed line: saturation."""
    from matplotlib.ticker import MaxNLocator

    from coder.reports.export import saturation_title

    check_figure_path(path)
    xs = [i.position for i in curve.interviews]
    fig = _figure(max(5.0, 0.45 * len(xs) + 2), 3.6)
    ax = fig.add_subplot()
    ax.bar(xs, [i.new for i in curve.interviews], color="#9ecae1", label="new codes")
    ax.plot(xs, [i.cumulative for i in curve.interviews], color="#08519c", marker="o",
            markersize=4, label="cumulative codes")
    point = curve.saturation
    if point is not None:
        ax.axvline(point.position + 0.5, color="#d62728", linestyle="--", linewidth=1,
                   label=f"saturation after {point.transcript}")
    ax.set_xticks(xs, [i.transcript for i in curve.interviews], rotation=45, ha="right",
                  fontsize=7)
    ax.set_xlabel(f"interview (in order of {curve.order})")
    ax.set_ylabel("codes")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max([i.cumulative for i in curve.interviews] + [1]) * 1.1)
    ax.legend(fontsize=7, loc="center right", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"Code saturation (coder: {curve.coder})", fontsize=10)
    _save(fig, path, curve.provenance, saturation_title(curve))
