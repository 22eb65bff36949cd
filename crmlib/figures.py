"""The figures of the stage notebooks and case reports, in one style and one set of colours.

Each function takes stage tables (DataFrames) and returns a matplotlib Figure;
nothing is recomputed beyond arranging the tables for plotting. Labels come in
the report's language (:mod:`crmlib.labels`). Grades, value classes and tiers
are coloured by their rank from the best down (:data:`SEGMENT_COLOURS`), so the
top grade of one case and the top class of another share a colour.

Chinese text needs a CJK font. :func:`use_report_style` registers Noto Sans CJK
(Debian's fonts-noto-cjk) as a per-glyph fallback after DejaVu Sans; without it
a warning (:class:`CjkFontMissing`) says so and Chinese glyphs are missing from
the figures.
"""
from __future__ import annotations

import glob
import warnings
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import font_manager

from .labels import Language, text
from .segmentation import biplot_step

__all__ = [
    "SEGMENT_COLOURS",
    "CJK_FONT_FILES",
    "CjkFontMissing",
    "use_report_style",
    "segment_colours",
    "save_figure",
    "scree_plot",
    "loadings_heatmap",
    "biplot",
    "segment_bar_chart",
    "value_matrix_plot",
    "lorenz_plot",
    "retention_plot",
    "problem_ranking_plot",
]

#: Colours by rank, best grade/class/tier first (Okabe-Ito, safe for colour-blind readers).
SEGMENT_COLOURS = ("#0072B2", "#009E73", "#E69F00", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#999999")
#: Colour of "all customers" and of single-series figures.
NEUTRAL = "#333333"
#: Where Debian's fonts-noto-cjk puts its fonts (searched in this order).
CJK_FONT_FILES = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                  "/usr/share/fonts/opentype/noto/NotoSansCJK-*.ttc",
                  "/usr/share/fonts/**/NotoSansCJK*.tt[cf]", "/usr/share/fonts/**/NotoSansCJK*.otf")
CJK_FAMILY_PREFIX = "Noto Sans CJK"


class CjkFontMissing(UserWarning):
    """No CJK font: Chinese labels in figures will show as empty boxes."""


def _cjk_family() -> str | None:
    """Family name of a Noto Sans CJK font known to matplotlib, registering Debian's files if needed.

    matplotlib reads the first face of a .ttc collection, which for Noto Sans CJK is the Japanese one
    ("Noto Sans CJK JP"); it covers every simplified Chinese character, with Japanese glyph shapes for the
    few characters whose regional forms differ."""
    def known():
        names = sorted({f.name for f in font_manager.fontManager.ttflist if f.name.startswith(CJK_FAMILY_PREFIX)})
        return names[0] if names else None
    if known() is None:
        for pattern in CJK_FONT_FILES:
            for path in sorted(glob.glob(pattern, recursive=True)):
                font_manager.fontManager.addfont(path)
    return known()


def use_report_style() -> bool:
    """Fixed matplotlib settings for byte-identical figures, with a CJK fallback font.

    Returns whether the CJK font was found; warns (:class:`CjkFontMissing`) when it was not.
    """
    cjk = _cjk_family()
    plt.rcParams.update({
        "figure.dpi": 100, "savefig.dpi": 150, "svg.hashsalt": "crmlib", "svg.fonttype": "path",
        "font.family": ["DejaVu Sans"] + ([cjk] if cjk else []),
        "axes.spines.top": False, "axes.spines.right": False, "axes.titlesize": 10, "legend.fontsize": 8,
    })
    if cjk is None:
        warnings.warn("no CJK font found (install Debian's fonts-noto-cjk): Chinese text in figures will be "
                      "missing", CjkFontMissing, stacklevel=2)
    return cjk is not None


def segment_colours(ids_best_first) -> dict[str, str]:
    """Colour of each grade, class or tier by its rank from the best (:data:`SEGMENT_COLOURS`)."""
    return {s: SEGMENT_COLOURS[k % len(SEGMENT_COLOURS)] for k, s in enumerate(ids_best_first)}


def _subplots(**options):
    """A new figure and its axes, not kept open by pyplot: a notebook shows the figure a function returns (once),
    and drawing many figures leaves none open."""
    figure, axis = plt.subplots(**options)
    plt.close(figure)
    return figure, axis


def save_figure(figure, directory, name: str) -> list[Path]:
    """Write ``name.png`` and ``name.svg`` (no dates in the metadata, so reruns give the same bytes) and close.

    Scatter points of customers are rasterized inside the SVG, so its size does not grow with the number of
    customers; axes, text and lines stay vectors."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"{name}.png", directory / f"{name}.svg"]
    figure.savefig(paths[0], metadata={"Software": None})
    figure.savefig(paths[1], metadata={"Date": None, "Creator": None})
    plt.close(figure)
    return paths


def scree_plot(eigen: pd.DataFrame, lang: Language = "en", quantile: float = 0.95):
    """Eigenvalues by component, with the parallel-analysis quantile line (when the table has it) and the
    Kaiser line at 1."""
    figure, axis = _subplots(figsize=(6, 3.5))
    axis.plot(eigen["component"], eigen["eigenvalue"], marker="o", color=SEGMENT_COLOURS[0],
              label=text("observed_eigenvalue", lang))
    if "random_quantile" in eigen:
        axis.plot(eigen["component"], eigen["random_quantile"], linestyle="--", marker=".",
                  color=SEGMENT_COLOURS[3], label=text("parallel_line", lang, q=quantile))
    axis.axhline(1.0, color="grey", linewidth=0.8, label=text("kaiser_line", lang))
    axis.set_xlabel(text("component", lang))
    axis.set_ylabel(text("eigenvalue", lang))
    axis.set_xticks(eigen["component"])
    axis.legend()
    figure.tight_layout()
    return figure


def _factor_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("F") and c[1:].isdigit()]


def loadings_heatmap(loadings: pd.DataFrame, labels: dict[str, str], lang: Language = "en"):
    """Heat map of the loadings (first column: indicator or item ids; then F1..Fk), on a -1..1 diverging scale."""
    id_column = loadings.columns[0]
    factor_columns = _factor_columns(loadings)
    values = loadings[factor_columns].to_numpy()
    names = [labels.get(i, i) for i in loadings[id_column]]
    figure, axis = _subplots(figsize=(2.2 + 0.9 * len(factor_columns), 0.8 + 0.32 * len(names)))
    image = axis.imshow(values, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    axis.set_xticks(range(len(factor_columns)), factor_columns)
    axis.set_yticks(range(len(names)), names, fontsize=8)
    for (row, column), value in np.ndenumerate(values):
        axis.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=7,
                  color="white" if abs(value) > 0.6 else "black")
    figure.colorbar(image, ax=axis, label=text("loading", lang), fraction=0.05)
    axis.set_xlabel(text("factor", lang))
    figure.tight_layout()
    return figure


def separate_labels(figure, axis, labels: list) -> None:
    """Move text labels apart until no two bounding boxes intersect: adjustText's iterative repulsion (labels
    only; the points and arrows stay where they are), then, for any pair still touching, the lower label is
    pushed down by the overlap (a last, exact pass, so the result never has intersecting labels)."""
    from adjustText import adjust_text  # here, not at the top: it imports scipy.spatial, 0.2 s for every kernel
    adjust_text(labels, ax=axis, expand=(1.1, 1.3), only_move={"text": "y"}, iter_lim=300)  # not time_lim: the
    # default (1 s) makes the result depend on the machine's speed
    renderer = figure.canvas.get_renderer()
    for _ in range(len(labels) ** 2):
        boxes = [label.get_window_extent(renderer) for label in labels]
        touching = [(a, b) for a in range(len(labels)) for b in range(a + 1, len(labels))
                    if boxes[a].overlaps(boxes[b])]
        if not touching:
            return
        a, b = touching[0]
        lower, upper = (a, b) if boxes[a].y0 <= boxes[b].y0 else (b, a)
        shift = boxes[lower].y1 - boxes[upper].y0 + 1.0  # display pixels
        x, y = axis.transData.inverted().transform((boxes[lower].x0, boxes[lower].y0 - shift))
        _, y0 = axis.transData.inverted().transform((boxes[lower].x0, boxes[lower].y0))
        position = labels[lower].get_position()
        labels[lower].set_position((position[0], position[1] + (y - y0)))


def biplot(points: pd.DataFrame, counts: pd.Series, order: list[str], loadings: pd.DataFrame,
           labels: dict[str, str], lang: Language = "en"):
    """Customers on the first two factors, coloured by grade, with the indicators' loadings as arrows.

    ``points`` (``F1``, ``F2``, ``grade``) are the customers drawn (:func:`crmlib.segmentation.biplot_points`: all of
    them up to :data:`~crmlib.segmentation.BIPLOT_POINTS`, else every k-th in id order; the title then says so);
    ``counts`` the customers of each grade, all of them, for the legend. The arrows are the loadings times one
    common factor, the largest that keeps them within 90% of the drawn scores' extent on both axes (Gabriel's biplot
    up to that scale)."""
    colours = segment_colours(order)
    figure, axis = _subplots(figsize=(8, 5.5))
    total = int(counts.sum())
    step = biplot_step(total)
    for segment in order:
        members = points[points["grade"] == segment]
        axis.scatter(members["F1"], members["F2"], s=9, alpha=0.55, color=colours[segment], rasterized=True,
                     label=f"{labels.get(segment, segment)} ({int(counts.get(segment, 0))})")
    if step > 1:
        axis.set_title(text("points_drawn", lang, step=step, shown=len(points), total=total), fontsize=8)
    arrows = loadings[["F1", "F2"]].to_numpy()
    reach = np.abs(points[["F1", "F2"]].to_numpy()).max(axis=0) / np.abs(arrows).max(axis=0)
    ends = arrows * 0.9 * float(reach.min())
    names = []
    for indicator, (x, y) in zip(loadings.iloc[:, 0], ends):
        axis.annotate("", xy=(x, y), xytext=(0, 0), annotation_clip=False,
                      arrowprops={"arrowstyle": "->", "color": NEUTRAL, "linewidth": 0.8})
        names.append(axis.text(x * 1.04, y * 1.04, labels.get(indicator, indicator), fontsize=7, color=NEUTRAL,
                               ha="left" if x >= 0 else "right"))
    axis.update_datalim(ends)
    axis.autoscale_view()
    separate_labels(figure, axis, names)
    axis.axhline(0, color="grey", linewidth=0.5)
    axis.axvline(0, color="grey", linewidth=0.5)
    axis.set_xlabel(text("score_on", lang, factor="F1"))
    axis.set_ylabel(text("score_on", lang, factor="F2"))
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)  # beside the points, not searched among them
    figure.tight_layout()
    return figure


def score_histogram(histogram: pd.DataFrame, cutoffs: pd.DataFrame, order: list[str], labels: dict[str, str],
                    lang: Language = "en"):
    """Histogram of the composite scores (``histogram``: ``lower``, ``upper``, ``customers`` per bin, as
    :func:`crmlib.segmentation.composite_histogram` counts them) with a dashed line at each grade's lower bound
    (``cutoffs``: ``grade``, ``lower_score``; the lowest grade's bound is -inf and not drawn), in the grade's rank
    colour."""
    colours = segment_colours(order)
    figure, axis = _subplots(figsize=(6.5, 3.5))
    edges = np.append(histogram["lower"].to_numpy(), histogram["upper"].to_numpy()[-1:])
    axis.hist(edges[:-1], bins=edges, weights=histogram["customers"].to_numpy(), color="#BBBBBB", edgecolor="white")
    for grade, bound in zip(cutoffs["grade"], cutoffs["lower_score"]):
        if np.isfinite(bound):
            axis.axvline(bound, color=colours[grade], linestyle="--", linewidth=1.4,
                         label=f"{text('grade_cutoff', lang, grade=labels.get(grade, grade))}: {bound:.3f}")
    axis.set_xlabel(text("composite_score", lang))
    axis.set_ylabel(text("customers", lang))
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def segment_bar_chart(sizes: pd.DataFrame, id_column: str, labels: dict[str, str], lang: Language = "en",
                      count_column: str = "customers", share_column: str | None = "share"):
    """Customers per grade, class or tier, best first, one rank colour each, annotated with count and share."""
    ids = list(sizes[id_column])
    colours = segment_colours(ids)
    figure, axis = _subplots(figsize=(6, 3.3))
    names = [labels.get(i, i) for i in ids]
    axis.bar(names, sizes[count_column], color=[colours[i] for i in ids])
    shares = sizes[share_column] if share_column else [None] * len(ids)
    for x, (count, share) in enumerate(zip(sizes[count_column], shares)):
        note = f"{count:,}" + (f" ({share:.0%})" if share is not None else "")
        axis.annotate(note, (x, count), ha="center", va="bottom", fontsize=8)
    axis.set_ylabel(text("customers", lang))
    axis.margins(y=0.15)
    figure.tight_layout()
    return figure


def robustness_plot(names: list[str], shares, unstable: tuple[float, float] | None, segment: str = "grade",
                    lang: Language = "en"):
    """Horizontal bars: the share of customers whose ``segment`` (grade or class) changes under each alternative
    convention; a dashed line at the bootstrap's share of customers keeping it in fewer than the stable share of
    samples."""
    figure, axis = _subplots(figsize=(6.5, 0.32 * len(names) + 1.4))
    positions = np.arange(len(names))[::-1]
    axis.barh(positions, shares, color=SEGMENT_COLOURS[0])
    for y, share in zip(positions, shares):
        axis.annotate(f"{share:.1%}", (share, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7)
    axis.set_yticks(positions, names, fontsize=8)
    axis.set_xlabel(text(f"share_changed_{segment}", lang))
    if unstable is not None:
        axis.axvline(unstable[0], color="black", linestyle="--", linewidth=0.9,
                     label=text(f"bootstrap_unstable_{segment}", lang, share=unstable[1]))
        axis.legend(loc="lower right", fontsize=8)
    axis.margins(x=0.15)
    figure.tight_layout()
    return figure


def value_matrix_plot(values: pd.DataFrame, classes: pd.Series, order: list[str], x: str, y: str,
                      thresholds: tuple[float, float], labels: dict[str, str], lang: Language = "en"):
    """The customer value matrix: x value against y value, the two thresholds, one rank colour per class."""
    colours = segment_colours(order)
    figure, axis = _subplots(figsize=(6, 5))
    for value_class in order:
        members = values[classes.loc[values.index] == value_class]
        axis.scatter(members[x], members[y], s=8, alpha=0.6, color=colours[value_class], rasterized=True,
                     label=f"{labels.get(value_class, value_class)} ({len(members)})")
    axis.axvline(thresholds[0], color="black", linewidth=0.8, linestyle="--")
    axis.axhline(thresholds[1], color="black", linewidth=0.8, linestyle="--")
    axis.set_xlabel(labels.get(x, x))
    axis.set_ylabel(labels.get(y, y))
    axis.legend(loc="best")
    figure.tight_layout()
    return figure


def lorenz_plot(curves: pd.DataFrame, gini: pd.Series, labels: dict[str, str], lang: Language = "en"):
    """Lorenz curve of each measure, the diagonal of equal shares and the 80% line; Gini in the legend."""
    figure, axis = _subplots(figsize=(5.5, 4.5))
    for colour, (measure, curve) in zip(SEGMENT_COLOURS, curves.groupby("measure", sort=False)):
        axis.plot(curve["customer_share"], curve["value_share"], color=colour,
                  label=f"{labels.get(measure, measure)} ({text('gini', lang)} {gini[measure]:.3f})")
    axis.plot([0, 1], [0, 1], color="grey", linewidth=0.8, linestyle="--", label=text("equal_shares", lang))
    axis.axvline(0.8, color="black", linewidth=0.6, linestyle=":")
    axis.set_xlabel(text("customer_share", lang))
    axis.set_ylabel(text("value_share", lang))
    axis.legend(loc="upper left")
    figure.tight_layout()
    return figure


def retention_plot(curves: pd.DataFrame, order: list[str], labels: dict[str, str], lang: Language = "en"):
    """Kaplan-Meier retention step curves per tier in rank colours (``order`` best first), all customers dashed."""
    colours = segment_colours(order) | {"all": NEUTRAL}
    figure, axis = _subplots(figsize=(6, 4))
    for tier, curve in curves.groupby("tier", sort=False):
        name = text("all_customers", lang) if tier == "all" else labels.get(tier, tier)
        axis.step(curve["month"], curve["retention"], where="post", color=colours.get(tier, NEUTRAL),
                  linestyle="--" if tier == "all" else "-", label=name)
    axis.set_xlabel(text("months", lang))
    axis.set_ylabel(text("retention", lang))
    axis.legend(loc="lower left")
    figure.tight_layout()
    return figure


def problem_ranking_plot(ranking: pd.DataFrame, labels: dict[str, str], confidence: float, lang: Language = "en"):
    """Mean score per dimension with its confidence interval, lowest (most serious problem) at the top."""
    ranking = ranking.iloc[::-1]
    figure, axis = _subplots(figsize=(6, 0.45 * len(ranking) + 1.2))
    names = [labels.get(d, d) for d in ranking["dimension"]]
    axis.errorbar(ranking["mean"], names, xerr=[ranking["mean"] - ranking["ci_low"],
                                                 ranking["ci_high"] - ranking["mean"]],
                  fmt="o", color=SEGMENT_COLOURS[0], capsize=3)
    axis.set_xlabel(text("mean_score", lang, c=confidence))
    figure.tight_layout()
    return figure
