"""Plotly figures from analysis frames; no Django here (labels come in as arguments)."""

import pandas as pd
import plotly.graph_objects as go

from .palette import TYPE_COLOURS

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


def portfolio(
    frame: pd.DataFrame,
    *,
    labels: dict[str, str],
    axis: dict[str, str],
    separators: str = ".,",
    currency: tuple[str, str] = ("", ""),
) -> go.Figure:
    """Current against future value, one trace per type; each point links to its customer.

    `frame` columns: customer (display name), url, value_type, current_value, future_value.
    `axis` holds the axis titles and the labels of the linear/logarithmic switch (values
    of a few large customers would otherwise squeeze everyone else into a corner).
    `separators` is plotly's decimal then thousands separator (",." for German, ".," for
    English); `currency` the (prefix, suffix) around an amount, e.g. ("", " €").
    """
    prefix, suffix = currency
    hover = f"%{{text}}<br>{prefix}%{{x:,.0f}}{suffix} → {prefix}%{{y:,.0f}}{suffix}<extra></extra>"
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
                marker={"color": colour, "size": 7, "opacity": 0.75},
                text=part["customer"],
                customdata=part["url"],
                hovertemplate=hover,
            )
        )
    top = float(max(frame["current_value"].max(), frame["future_value"].max(), 1.0))
    low = float(min(frame["current_value"].min(), frame["future_value"].min(), 0.0))
    figure.add_trace(
        go.Scatter(
            x=[low, top],
            y=[low, top],
            mode="lines",
            line={"color": "#9ca3af", "dash": "dot", "width": 1},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    figure.update_layout(
        **_LAYOUT,
        height=520,
        separators=separators,
        xaxis={"title": axis["current"], **_money_axis(currency)},
        yaxis={"title": axis["future"], **_money_axis(currency)},
        updatemenus=[
            {
                "type": "buttons",
                "direction": "right",
                "x": 0,
                "y": 1.12,
                "xanchor": "left",
                "buttons": [
                    {
                        "label": axis["linear"],
                        "method": "relayout",
                        "args": [{"xaxis.type": "linear", "yaxis.type": "linear"}],
                    },
                    {
                        "label": axis["log"],
                        "method": "relayout",
                        "args": [{"xaxis.type": "log", "yaxis.type": "log"}],
                    },
                ],
            }
        ],
    )
    return figure


def history(
    past: pd.DataFrame,
    forecast: pd.DataFrame,
    *,
    labels: dict[str, str],
    separators: str = ".,",
    currency: tuple[str, str] = ("", ""),
) -> go.Figure:
    """The value per period, and the forecast continuing it.

    `past` columns: period, value; `forecast` columns: period, value. `separators` and
    `currency` as for `portfolio`.
    """
    prefix, suffix = currency
    hover = f"%{{x|%Y-%m}}: {prefix}%{{y:,.0f}}{suffix}<extra>%{{fullData.name}}</extra>"
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            x=past["period"],
            y=past["value"],
            name=labels["past"],
            marker_color="#60a5fa",
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
                hovertemplate=hover,
            )
        )
    figure.update_layout(
        **_LAYOUT,
        height=340,
        separators=separators,
        yaxis={"title": labels["value"], **_money_axis(currency)},
        bargap=0.15,
    )
    return figure
