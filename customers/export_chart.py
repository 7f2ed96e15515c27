"""The portfolio chart as a PNG picture, for the XLSX export; no Django here.

Drawn with matplotlib's object API (a `Figure` with its own Agg canvas, never pyplot):
pyplot keeps global state, which is not safe in a threaded web server. Labels and the
money format come in as arguments, as in customers/charts.py, whose web chart this
picture follows: one colour per value type, current value on x, future value on y, and a
diagonal where both are the same.
"""

import io
from collections.abc import Callable

import numpy as np
import pandas as pd

from lib.palette import TYPE_COLOURS

# frame columns: value_type (code), current_value and future_value (currency units),
# value_basis ("margin" or "revenue"; optional, without it all count as margin).
PORTFOLIO_COLUMNS = ["value_type", "current_value", "future_value", "value_basis"]
# Customers valued by revenue (no margin data) are hollow diamonds, as on the web chart.
BASIS_MARKERS = {"margin": "o", "revenue": "D"}

# Size of the picture in the sheet: 990 x 660 pixels.
SIZE_INCHES = (9.0, 6.0)
DPI = 110
# A type code without a colour of its own (none today) still shows.
OTHER_COLOUR = "#6b7280"


def log_threshold(values: np.ndarray) -> float | None:
    """The linear range around zero of a logarithmic axis, or None for a linear axis.

    A logarithmic axis pays off once the amounts span more than two decades: a few large
    customers would otherwise squeeze everyone else into a corner. It is matplotlib's
    symmetric log ("symlog"), because burr customers can be worth less than nothing and
    some customers nothing at all. The span is measured from the 5th percentile of the
    non-zero amounts, so that a handful of tiny values does not decide it; the linear range
    ends at that amount's power of ten.
    """
    magnitudes = np.abs(values[np.isfinite(values)])
    magnitudes = magnitudes[magnitudes > 0]
    if magnitudes.size == 0:
        return None
    low = float(np.quantile(magnitudes, 0.05))
    if magnitudes.max() / low <= 100:
        return None
    return float(10 ** np.floor(np.log10(low)))


def _drawing_order(codes: np.ndarray) -> np.ndarray:
    """Customers with too little data first (underneath), then all others mixed.

    One scatter for all types, in a shuffled order: drawn type by type, the last type would
    cover the others wherever customers crowd.
    """
    shuffled = np.random.default_rng(0).permutation(len(codes))
    underneath = codes[shuffled] == "insufficient_data"
    return shuffled[np.argsort(~underneath, kind="stable")]


def _colours(codes: np.ndarray) -> np.ndarray:
    """One RGBA row per customer, looked up by type (faster than a colour name per point)."""
    from matplotlib.colors import to_rgba_array  # lazily, as in portfolio_png

    table = to_rgba_array([*TYPE_COLOURS.values(), OTHER_COLOUR])
    # A code without a colour gets -1, which picks the table's last row: OTHER_COLOUR.
    return table[pd.Categorical(codes, categories=list(TYPE_COLOURS)).codes]


def _marker_size(n: int) -> float:
    """Marker area in points²: big for a few dozen customers, small for 100,000."""
    return float(np.clip(1500 / np.sqrt(max(n, 1)), 3, 30))


def portfolio_png(
    frame: pd.DataFrame,
    *,
    labels: dict[str, str],
    axis: dict[str, str],
    money: Callable[[float], str],
    bases: dict[str, str] | None = None,
) -> bytes:
    """Current against future value as a PNG, one colour per value type, one marker per
    value basis.

    `frame` has PORTFOLIO_COLUMNS. `labels` maps a type code to its legend entry (the
    caller puts the count in); `bases` a value basis to its marker's legend entry,
    shown for the bases present. `axis` holds the texts "current" and "future" (axis titles),
    "no_change" (the diagonal's legend entry) and "log" (the note shown when the axes are
    logarithmic). `money` formats a tick value, e.g. 1000 -> "1.000 €".

    The points are rasterised, small, and drawn as one scatter, so that 100,000 customers
    take a fraction of a second.
    """
    # Imported here: matplotlib takes 0.3 s to import, which every process (the server,
    # each manage.py command, the tests) would otherwise pay at start-up.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    figure = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    current = frame["current_value"].to_numpy(dtype=float)
    future = frame["future_value"].to_numpy(dtype=float)
    codes = frame["value_type"].to_numpy()
    order = _drawing_order(codes)
    colours = _colours(codes)
    basis = (
        frame["value_basis"].to_numpy() if "value_basis" in frame else np.full(len(frame), "margin")
    )
    size = _marker_size(len(frame))
    for code, marker in BASIS_MARKERS.items():
        part = order[basis[order] == code] if code != "margin" else order[basis[order] != "revenue"]
        if not part.size:
            continue
        hollow = marker != "o"
        ax.scatter(
            current[part],
            future[part],
            s=size,
            marker=marker,
            c=None if hollow else colours[part],
            facecolors="none" if hollow else None,
            edgecolors=colours[part] if hollow else None,
            alpha=0.7,
            linewidths=1 if hollow else 0,
            rasterized=True,
        )
    handles = [
        Line2D([], [], marker="o", linestyle="", color=colour, label=labels.get(code, code))
        for code, colour in TYPE_COLOURS.items()
        if (codes == code).any()
    ]
    handles += [
        Line2D(
            [],
            [],
            marker=marker,
            linestyle="",
            color=OTHER_COLOUR,
            markerfacecolor=OTHER_COLOUR if marker == "o" else "none",
            label=(bases or {})[code],
        )
        for code, marker in BASIS_MARKERS.items()
        if code in (bases or {}) and (basis == code).any()
    ]
    both = np.concatenate([current, future])
    low, top = (float(np.nanmin(both)), float(np.nanmax(both))) if both.size else (0.0, 1.0)
    low, top = min(low, 0.0), max(top, 1.0)
    (diagonal,) = ax.plot(
        [low, top], [low, top], color="#9ca3af", linestyle=":", linewidth=1, label=axis["no_change"]
    )
    threshold = log_threshold(both)
    if threshold is not None:
        ax.set_xscale("symlog", linthresh=threshold)
        ax.set_yscale("symlog", linthresh=threshold)
        ax.text(0.01, 0.99, axis["log"], transform=ax.transAxes, va="top", fontsize=8)
    ticks = FuncFormatter(lambda value, _position: money(value))
    ax.xaxis.set_major_formatter(ticks)
    ax.yaxis.set_major_formatter(ticks)
    ax.tick_params(labelsize=8)
    ax.tick_params(axis="x", labelrotation=30)
    ax.set_xlabel(axis["current"])
    ax.set_ylabel(axis["future"])
    ax.grid(True, color="#e5e7eb", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(handles=[*handles, diagonal], loc="lower right", fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
