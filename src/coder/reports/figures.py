"""Figures for papers: PDF, PNG or SVG, drawn with matplotlib's Agg canvas (no pyplot).

- :func:`plot_theme_heatmap`: keys × groups and a Total column (set off by a gap and a line),
  colour = share, each cell annotated with its count and share (hidden cells grey, ``[c]``);
  at code level each theme starts a band (bold label, a rule above it);
- :func:`plot_cooccurrence`: keys × keys, colour = Jaccard index, annotated with counts;
- :func:`plot_saturation`: new codes per interview (bars), the cumulative number of codes
  (line), the saturation point and Guest et al.'s points; the legend sits above the axes,
  outside the data.

Sized for a journal: at most :data:`DOUBLE_COLUMN` inches wide (a two-column figure), text
at least :data:`MIN_FONT` pt at that size, so it stays legible when placed at column width.
Colours are colour-blind safe: ColorBrewer's sequential Blues/Oranges for the heatmaps and
the Okabe–Ito palette (:data:`OKABE_ITO`) for lines and bars. The provenance goes into the
file's metadata: PNG text chunks, SVG Dublin Core fields or the PDF info dictionary (without a
date, so the file is reproducible). matplotlib is imported inside these functions only.
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

FIGURE_SUFFIXES = (".pdf", ".png", ".svg")
DOUBLE_COLUMN = 7.2      # inches: a figure across both columns of a journal page
MIN_FONT = 6.5           # points, at that size
OKABE_ITO = {"orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
             "black": "#000000"}


def check_figure_path(path: Path) -> str:
    """The format of a figure file from its suffix (``pdf``, ``png`` or ``svg``), or a
    CoderError."""
    suffix = Path(path).suffix.lower()
    if suffix not in FIGURE_SUFFIXES:
        raise CoderError(f"{path}: a figure must be .pdf, .png or .svg — e.g. --plot "
                         "themes-by-country.pdf")
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

    fig = Figure(figsize=(min(width, DOUBLE_COLUMN), height), dpi=150, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path, provenance: "Provenance", title: str) -> None:
    import matplotlib

    fmt = check_figure_path(path)
    metadata = {"png": provenance.png_metadata, "svg": provenance.svg_metadata,
                "pdf": _pdf_metadata(provenance)}[fmt](title)
    from coder.fileio import atomic_write

    def save(tmp: Path) -> None:
        with matplotlib.rc_context({"svg.hashsalt": provenance.project_hash[:16],
                                    "svg.fonttype": "path", "pdf.fonttype": 42}):
            fig.savefig(tmp, format=fmt, metadata=metadata)

    atomic_write(path, save)


def _pdf_metadata(provenance: "Provenance"):
    def meta(title: str) -> dict[str, str | None]:
        return {"Title": title, "Author": provenance.software, "Subject": provenance.footer(),
                "Keywords": f"sha256:{provenance.project_hash}", "Creator": provenance.command,
                "CreationDate": None, "ModDate": None}
    return meta


def _annotate(ax, values, texts, cmap, norm, xs=None) -> None:
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            if value is None:
                colour = "black"
            else:
                r, g, b, _ = cmap(norm(value))
                colour = "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"
            x = j if xs is None else xs[j]
            ax.text(x, i, texts[i][j], ha="center", va="center", fontsize=MIN_FONT,
                    color=colour)


def _matrix(values):
    import numpy as np

    return np.ma.masked_invalid(np.array([[np.nan if v is None else v for v in row]
                                          for row in values], dtype=float))


def theme_heatmap_figure(table: "ThemeTable"):
    """The heatmap as a matplotlib Figure (see :func:`plot_theme_heatmap`)."""
    import matplotlib
    import numpy as np
    from matplotlib.colors import Normalize

    from coder.reports.disclosure import MARK
    from coder.reports.frequencies import TOTAL

    columns = [*table.groups, TOTAL]
    values, texts = [], []
    for key in table.keys:
        row, text = [], []
        for g in columns:
            if table.suppressed(g, key):
                row.append(None)
                text.append(MARK)
                continue
            cell = table.cell(g, key)
            row.append(cell.share)
            flag = "*" if table.small(g, key) else ""
            pct = "" if cell.share is None else f"\n{cell.share * 100:.0f}%"
            text.append(f"{table.count(g, key)}{flag}{pct}")
        values.append(row)
        texts.append(text)
    gap = 0.35                               # the Total column stands apart
    xs = [*range(len(table.groups)), len(table.groups) + gap]
    fig = _figure(2.6 + 0.55 * len(columns), 1.3 + 0.32 * len(table.keys))
    ax = fig.add_subplot()
    cmap = matplotlib.colormaps["Blues"].with_extremes(bad="#dddddd")
    norm = Normalize(0, 1)
    matrix = _matrix(values)
    groups_part = ax.imshow(matrix[:, :-1], cmap=cmap, norm=norm, aspect="auto",
                            extent=(-0.5, len(table.groups) - 0.5, len(table.keys) - 0.5, -0.5))
    ax.imshow(matrix[:, -1:], cmap=cmap, norm=norm, aspect="auto",
              extent=(xs[-1] - 0.5, xs[-1] + 0.5, len(table.keys) - 0.5, -0.5))
    ax.set_xlim(-0.5, xs[-1] + 0.5)
    ax.set_ylim(len(table.keys) - 0.5, -0.5)
    ax.axvline(len(table.groups) - 0.5 + gap / 2, color="black", linewidth=0.8)
    _annotate(ax, values, texts, cmap, norm, xs)
    width = fig.get_figwidth()
    per_column = (width * 0.55) / len(columns) * 72          # points of room under a column
    longest = max(len(str(g)) for g in columns)
    turn = longest * MIN_FONT * 0.6 > per_column            # would touch its neighbours
    sep = " " if turn else "\n"
    ax.set_xticks(xs, [f"{g}{sep}({'N' if table.unit == 'participants' else 'n'}="
                       f"{table.base(g)})" for g in columns], fontsize=MIN_FONT,
                  rotation=40 if turn else 0, ha="right" if turn else "center",
                  rotation_mode="anchor" if turn else "default")
    ax.get_xticklabels()[-1].set_fontweight("bold")
    labels = [_label(table.labels, k) for k in table.keys]
    ax.set_yticks(range(len(table.keys)), labels, fontsize=MIN_FONT + 0.5)
    if table.level == "codes":               # theme bands: bold theme rows, a rule above each
        for i, key in enumerate(table.keys):
            if "." not in key:
                ax.get_yticklabels()[i].set_fontweight("bold")
                if i:
                    ax.axhline(i - 0.5, color="black", linewidth=0.8)
        starts = [i for i, k in enumerate(table.keys) if "." not in k] + [len(table.keys)]
        for n, (a, b) in enumerate(zip(starts, starts[1:])):
            if n % 2:
                ax.axhspan(a - 0.5, b - 0.5, xmin=0, xmax=1, color="#000000", alpha=0.04,
                           zorder=3, linewidth=0)
    ax.tick_params(length=0)
    ax.set_xlabel(table.by, fontsize=MIN_FONT + 1)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    colorbar = fig.colorbar(groups_part, ax=ax, fraction=0.04, pad=0.02)
    colorbar.set_label("share of participants" if table.unit == "participants"
                       else "share of segments", fontsize=MIN_FONT + 0.5)
    colorbar.ax.tick_params(labelsize=MIN_FONT)
    what = "Codes" if table.level == "codes" else "Themes"
    ax.set_title(f"{what} by {table.by} (coder: {table.coder})", fontsize=MIN_FONT + 2)
    return fig


def plot_theme_heatmap(table: "ThemeTable", path: Path) -> None:
    """Keys × groups and Total: shares as colour, annotated ``count`` and ``share%``."""
    from coder.reports.export import theme_title

    check_figure_path(path)
    _save(theme_heatmap_figure(table), path, table.provenance, theme_title(table))


def cooccurrence_figure(table: "CooccurrenceTable"):
    import matplotlib
    from matplotlib.colors import Normalize

    cmap = matplotlib.colormaps["Oranges"].with_extremes(bad="#e4e4e4")
    # the diagonal (Jaccard 1 by definition) is shown grey, so the scale serves the pairs
    off = [[None if i == j else v for j, v in enumerate(row)]
           for i, row in enumerate(table.jaccard)]
    norm = Normalize(0, max([v for row in off for v in row if v is not None] + [0]) or 1)
    labels = [_label(table.labels, k) for k in table.keys]
    size = 2.6 + 0.3 * len(table.keys)
    fig = _figure(size + 1.2, min(size, 9.0))
    ax = fig.add_subplot()
    image = ax.imshow(_matrix(off), cmap=cmap, norm=norm)
    _annotate(ax, off, [[str(v) for v in row] for row in table.counts], cmap, norm)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=MIN_FONT)
    ax.set_yticks(range(len(labels)), labels, fontsize=MIN_FONT)
    ax.tick_params(length=0)
    colorbar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    colorbar.set_label("Jaccard index", fontsize=MIN_FONT + 0.5)
    colorbar.ax.tick_params(labelsize=MIN_FONT)
    ax.set_title(f"Co-occurrence ({table.segments} segments; coder: {table.coder})",
                 fontsize=MIN_FONT + 2)
    return fig


def plot_cooccurrence(table: "CooccurrenceTable", path: Path) -> None:
    """Keys × keys heatmap: colour = Jaccard index of the pair (diagonal grey), annotated
    with segment counts."""
    from coder.reports.export import cooccurrence_title

    check_figure_path(path)
    _save(cooccurrence_figure(table), path, table.provenance, cooccurrence_title(table))


def saturation_figure(curve: "SaturationCurve"):
    from matplotlib.ticker import MaxNLocator

    xs = [i.position for i in curve.interviews]
    fig = _figure(max(3.5, 0.3 * len(xs) + 2), 3.2)
    ax = fig.add_subplot()
    ax.bar(xs, [i.new for i in curve.interviews], color=OKABE_ITO["sky"], label="new codes")
    ax.plot(xs, [i.cumulative for i in curve.interviews], color=OKABE_ITO["blue"], marker="o",
            markersize=3, label="cumulative codes")
    point = curve.saturation
    if point is not None:
        ax.axvline(point.position + 0.5, color=OKABE_ITO["vermillion"], linestyle="--",
                   linewidth=1, label=f"no new code after {point.transcript}")
    styles = (":", "-.")
    for guest, style in zip(curve.guest, styles):
        if guest.point is not None:
            ax.axvline(guest.point + 0.5, color=OKABE_ITO["green"], linestyle=style,
                       linewidth=1, label=f"Guest et al. (base {guest.base}, run {guest.run}): "
                       f"{guest.point} interviews")
    ax.set_xticks(xs, [i.transcript for i in curve.interviews], rotation=45, ha="right",
                  fontsize=MIN_FONT)
    ax.tick_params(axis="y", labelsize=MIN_FONT)
    ax.set_xlabel(f"interview (in order of {curve.order})", fontsize=MIN_FONT + 1)
    ax.set_ylabel("codes", fontsize=MIN_FONT + 1)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max([i.cumulative for i in curve.interviews] + [1]) * 1.08)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"Code saturation (coder: {curve.coder})", fontsize=MIN_FONT + 2)
    # outside the axes, below them: the legend can never cover a bar or a point
    fig.legend(loc="outside lower center", ncols=2, fontsize=MIN_FONT, frameon=False)
    return fig


def plot_saturation(curve: "SaturationCurve", path: Path) -> None:
    """Bars: new codes per interview; line: cumulative codes; dashed line: saturation; dotted
    lines: Guest et al.'s saturation in both settings."""
    from coder.reports.export import saturation_title

    check_figure_path(path)
    _save(saturation_figure(curve), path, curve.provenance, saturation_title(curve))
