"""Plotly figures from analysis frames; no Django here (labels come in as arguments)."""

from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lib.palette import TYPE_COLOURS

_LAYOUT = {
    "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
    "template": "plotly_white",
    "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
    "legend": {"orientation": "h", "y": -0.18},
}


def _money_axis(currency: tuple[str, str]) -> dict:
    """Grouped whole amounts with the currency on the ticks: "1.000 €" or "€1,000"."""
    prefix, suffix = currency
    return {"tickformat": ",.0f", "tickprefix": prefix, "ticksuffix": suffix}


def not_positive(frame: pd.DataFrame) -> pd.Series:
    """Customers a logarithmic axis cannot place: a current or future value of zero or less."""
    return (frame["current_value"] <= 0) | (frame["future_value"] <= 0)


# Marker of a customer drawn at an edge of the logarithmic chart: pointing to where the
# value really is (left: current value, down: future value, both: the corner).
_EDGE_SYMBOLS = {(True, False): "triangle-left", (False, True): "triangle-down"}

# Marker per value basis: customers valued by revenue (no margin data) are open diamonds,
# so that nobody reads their revenue as margin.
BASIS_SYMBOLS = {"margin": "circle", "revenue": "diamond-open"}


def portfolio(
    frame: pd.DataFrame,
    *,
    labels: dict[str, str],
    axis: dict[str, str],
    bases: dict[str, str] | None = None,
    separators: str = ".,",
    currency: tuple[str, str] = ("", ""),
    money: Callable[[float], str] = "{:,.0f}".format,
) -> go.Figure:
    """Current against future value, one trace per type; each point links to its customer.

    `frame` columns: customer (display name), url, value_type, current_value, future_value,
    and value_basis ("margin" or "revenue"; without it every customer counts as margin).
    `bases` holds the legend entry of each basis's marker (BASIS_SYMBOLS), shown for
    the bases present; the hover text names the basis too.
    `axis` holds the axis titles ("current", "future"), the labels of the scale switch
    ("log", "linear") and "edge", the legend entry of the customers drawn at an edge.
    `separators` is plotly's decimal then thousands separator (",." for German, ".," for
    English); `currency` the (prefix, suffix) around an amount, e.g. ("", " €"); `money`
    formats an amount for the hover text of the edge points, e.g. -1000 -> "−1.000 €".

    The chart starts on logarithmic axes: values span several powers of ten, and on
    linear axes a few large customers squeeze everybody else into the lower left corner.
    A logarithmic axis cannot show zero or less (burr customers can be worth less than
    nothing), so those customers are drawn again, as triangles, at the left or bottom
    edge, in a trace of their own that only the logarithmic view shows; the type traces
    keep their true values for the linear view. Without a positive value at all the
    chart starts linear.
    """
    prefix, suffix = currency
    hover = f"%{{text}}<br>{prefix}%{{x:,.0f}}{suffix} → {prefix}%{{y:,.0f}}{suffix}<extra></extra>"
    bases = bases or {}
    basis = frame["value_basis"] if "value_basis" in frame else pd.Series("margin", frame.index)
    named = frame["customer"] + basis.map(lambda b: f"<br>{bases[b]}" if b in bases else "")
    figure = go.Figure()
    for code, colour in TYPE_COLOURS.items():
        part = frame[frame["value_type"] == code]
        if part.empty:
            continue
        figure.add_trace(
            go.Scattergl(
                x=part["current_value"],
                y=part["future_value"],
                mode="markers",
                name=labels.get(code, code),
                marker={
                    "color": colour,
                    "size": 7,
                    "opacity": 0.75,
                    "symbol": basis[part.index].map(BASIS_SYMBOLS).fillna("circle").tolist(),
                },
                text=named[part.index],
                customdata=part["url"],
                hovertemplate=hover,
            )
        )
    values = pd.concat([frame["current_value"], frame["future_value"]])
    positive = values[values > 0]
    logarithmic = not positive.empty
    # Half a power of ten below the smallest positive value: left of and below every point.
    edge = float(positive.min()) / 3 if logarithmic else 1.0
    outside = frame[not_positive(frame)]
    edge_trace = None
    if logarithmic and not outside.empty:
        edge_trace = len(figure.data)
        left = (outside["current_value"] <= 0).to_numpy()
        down = (outside["future_value"] <= 0).to_numpy()
        figure.add_trace(
            go.Scattergl(
                x=outside["current_value"].where(~left, edge),
                y=outside["future_value"].where(~down, edge),
                mode="markers",
                name=axis["edge"],
                marker={
                    "color": [TYPE_COLOURS.get(code, "#6b7280") for code in outside["value_type"]],
                    "symbol": [
                        _EDGE_SYMBOLS.get((a, b), "diamond")
                        for a, b in zip(left, down, strict=True)
                    ],
                    "size": 9,
                    "opacity": 0.85,
                    "line": {"color": "#374151", "width": 1},
                },
                text=[
                    f"{name}<br>{money(now)} → {money(later)}"
                    for name, now, later in zip(
                        named[outside.index],
                        outside["current_value"],
                        outside["future_value"],
                        strict=True,
                    )
                ],
                customdata=outside["url"],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    # The key to the markers: which customers are valued by margin, which by revenue.
    for code in (b for b in BASIS_SYMBOLS if b in bases and (basis == b).any()):
        figure.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=bases[code],
                marker={"color": "#6b7280", "size": 8, "symbol": BASIS_SYMBOLS[code]},
                hoverinfo="skip",
            )
        )
    top = float(max(values.max(), 1.0))
    low = float(min(values.min(), 0.0))
    # Through the edge as well: a logarithmic axis drops the point at `low` (zero or less).
    diagonal = sorted({low, edge, top}) if logarithmic else [low, top]
    figure.add_trace(
        go.Scatter(
            x=diagonal,
            y=diagonal,
            mode="lines",
            line={"color": "#9ca3af", "dash": "dot", "width": 1},
            hoverinfo="skip",
            showlegend=False,
        )
    )

    # Over four powers of ten, labels at 1, 2 and 5 of each ("D2") crowd into each other:
    # then label the powers of ten only. None leaves the linear axis its own ticks.
    decades = float(np.log10(top / edge)) if logarithmic else 0.0
    ticks = {"log": 1 if decades > 4 else "D2", "linear": None}

    def view(scale: str) -> list[dict]:
        """The switch's arguments: the edge trace only on logarithmic axes."""
        shown = [i != edge_trace or scale == "log" for i in range(len(figure.data))]
        layout = {
            f"{a}.{key}": value
            for a in ("xaxis", "yaxis")
            for key, value in (("type", scale), ("dtick", ticks[scale]))
        }
        return [{"visible": shown}, layout]

    scales = ["log", "linear"] if logarithmic else ["linear"]
    start = {"type": scales[0], "dtick": ticks[scales[0]], **_money_axis(currency)}
    figure.update_layout(
        **_LAYOUT,
        height=520,
        separators=separators,
        xaxis={"title": axis["current"], **start},
        yaxis={"title": axis["future"], **start},
        updatemenus=[
            {
                "type": "buttons",
                "direction": "right",
                "x": 0,
                "y": 1.12,
                "xanchor": "left",
                "active": 0,
                "buttons": [
                    {"label": axis[scale], "method": "update", "args": view(scale)}
                    for scale in scales
                ],
            }
        ],
    )
    return figure


def _month_ticks(periods: pd.Series) -> list[pd.Timestamp]:
    """Months to label on a time axis: every month for a year, then every 3, 6 or 12."""
    months = pd.Series(periods.dropna().unique()).sort_values()
    if months.empty:
        return []
    span = len(pd.period_range(months.iloc[0], months.iloc[-1], freq="M"))
    step = next((s for limit, s in ((12, 1), (36, 3), (72, 6)) if span <= limit), 12)
    return [p for p in months if (p.month - 1) % step == 0]


def history(
    past: pd.DataFrame,
    forecast: pd.DataFrame,
    *,
    labels: dict[str, str],
    separators: str = ".,",
    currency: tuple[str, str] = ("", ""),
    month: Callable[[pd.Timestamp], str] = "{:%Y-%m}".format,
) -> go.Figure:
    """The value per period, and the forecast continuing it.

    `past` columns: period, value; `forecast` columns: period, value. `separators` and
    `currency` as for `portfolio`. `month` names a period in the reader's language
    ("Dez. 2023", "Dec 2023") on the axis and in the hover text: plotly.js would name
    the months in English.
    """
    prefix, suffix = currency
    hover = f"%{{customdata}}: {prefix}%{{y:,.0f}}{suffix}<extra>%{{fullData.name}}</extra>"
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            x=past["period"],
            y=past["value"],
            name=labels["past"],
            marker_color="#60a5fa",
            customdata=[month(p) for p in past["period"]],
            hovertemplate=hover,
        )
    )
    if not forecast.empty:
        figure.add_trace(
            go.Scatter(
                x=forecast["period"],
                y=forecast["value"],
                name=labels["forecast"],
                mode="lines+markers",
                line={"color": "#f59e0b", "dash": "dash"},
                customdata=[month(p) for p in forecast["period"]],
                hovertemplate=hover,
            )
        )
    ticks = _month_ticks(pd.concat([past["period"], forecast["period"]]))
    figure.update_layout(
        **_LAYOUT,
        height=340,
        separators=separators,
        xaxis={"tickmode": "array", "tickvals": ticks, "ticktext": [month(p) for p in ticks]},
        yaxis={"title": labels["value"], **_money_axis(currency)},
        bargap=0.15,
    )
    return figure


def calibration(
    groups: list[dict],
    *,
    labels: dict[str, str],
    separators: str = ".,",
    currency: tuple[str, str] = ("", ""),
) -> go.Figure:
    """A backtest's calibration: per group of customers by their forecast, the mean
    forecast (x) against the mean value they really brought (y); on the dotted line
    the forecast was right on average (customers/backtest.py).

    `groups`: the backtest's "calibration" entries (n, forecast_mean, actual_mean).
    `labels`: "forecast" and "actual" (axis titles), "groups" (the points' legend
    entry), "customers" (the hover's word for the group size), "perfect" (the line's).
    """
    prefix, suffix = currency
    x = [g["forecast_mean"] for g in groups]
    y = [g["actual_mean"] for g in groups]
    hover = (
        f"%{{customdata}} {labels['customers']}<br>"
        f"{labels['forecast']}: {prefix}%{{x:,.0f}}{suffix}<br>"
        f"{labels['actual']}: {prefix}%{{y:,.0f}}{suffix}<extra></extra>"
    )
    low, high = min([*x, *y, 0.0]), max([*x, *y, 1.0])
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=[low, high],
            y=[low, high],
            mode="lines",
            name=labels["perfect"],
            line={"color": "#9ca3af", "dash": "dot", "width": 1},
            hoverinfo="skip",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=x,
            y=y,
            mode="lines+markers",
            name=labels["groups"],
            marker={"color": "#2563eb", "size": 8},
            line={"color": "#2563eb", "width": 1},
            customdata=[g["n"] for g in groups],
            hovertemplate=hover,
        )
    )
    figure.update_layout(
        **_LAYOUT,
        height=380,
        separators=separators,
        xaxis={"title": labels["forecast"], **_money_axis(currency)},
        yaxis={"title": labels["actual"], **_money_axis(currency)},
    )
    return figure
