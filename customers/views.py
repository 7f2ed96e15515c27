"""Customer value pages: list, portfolio, customer, focus list, import, exports."""

import csv
import io
import math
import re

import pandas as pd
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails
from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from chain.actions import chains_for_actor_actions
from chain.templatetags.chain_urls import pk_url
from lib.search import search_term
from lib.text import csv_safe, strip_control

from . import charts, export_chart, guidance, jobs, services, value_basis
from .forms import ActorLinkForm, UploadForm
from .models import AnalysisRun, Assessment, ImportBatch, ValueType
from .selectors import (
    User,
    assessment_history,
    assessment_list_for_user,
    customer_get_for_user,
    customer_records,
    customers_all_visible,
    latest_run,
    product_assessment_list,
)
from .tasks import analyse_task, backtest_task
from .templatetags.money import currency_affixes, money, number, plotly_separators


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


SORTS = {
    "current": "-current_value",
    "future": "-future_value",
    "growth": "-delta",
    "name": "customer__name",
}


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def customer_list(request: HtmxHttpRequest) -> HttpResponse:
    run = latest_run()
    assessments = assessment_list_for_user(run, request.user) if run else Assessment.objects.none()
    value_type = request.GET.get("type", "")
    if value_type in ValueType.values:
        assessments = assessments.filter(value_type=value_type)
    basis = request.GET.get("basis", "")
    if basis in value_basis.BASES:
        assessments = assessments.filter(value_basis=basis)
    # No NUL for PostgreSQL, no page-long terms: lib.search.
    q = search_term(request.GET.get("q"))
    if q:
        assessments = assessments.filter(
            Q(customer__number__icontains=q) | Q(customer__name__icontains=q)
        )
    sort = request.GET.get("sort", "current")
    order = SORTS.get(sort, SORTS["current"])
    if sort == "growth":
        assessments = assessments.annotate(delta=F("future_value") - F("current_value"))
    page = Paginator(assessments.order_by(order, "customer__number"), 50).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "run": run,
        # The analysis's count is every team's customers: only for those who see them all.
        "run_customers": run.customers if run and customers_all_visible(request.user) else None,
        "page": page,
        "types": ValueType.choices,
        "value_type": value_type,
        "bases": value_basis.labels(),
        "basis": basis,
        "q": q,
        "sort": sort,
        "query": query.urlencode(),
        "can_import": request.user.has_perm("customers.import_values"),
        "job_progress": None if request.htmx else _job_progress(),
    }
    template = "customers/list.html#customer-table" if request.htmx else "customers/list.html"
    return render(request, template, context)


def _basis_labels() -> dict[str, str]:
    """The portfolio chart's legend for each value basis, on the page and in the PNG."""
    return {
        value_basis.MARGIN: _("Valued by contribution margin"),
        value_basis.REVENUE: _("Valued by revenue (no margin data)"),
    }


def portfolio_chart(frame: pd.DataFrame):
    """The portfolio chart in the reader's language (also on a chain's customers tab)."""
    return charts.portfolio(
        frame,
        labels={code: str(capfirst(label)) for code, label in ValueType.choices},
        bases=_basis_labels(),
        axis={
            "current": _("Current value (last 12 periods)"),
            "future": _("Future value"),
            "linear": _("Linear scale"),
            "log": _("Logarithmic scale"),
            "edge": _("Zero or less: at the edge"),
        },
        separators=plotly_separators(),
        currency=currency_affixes(),
        money=lambda value: money(value, 0),
    )


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def portfolio(request: HtmxHttpRequest) -> HttpResponse:
    run = latest_run()
    context = {"run": run}
    if run:
        rows = list(
            assessment_list_for_user(run, request.user).values(
                "customer_id",
                "customer__number",
                "customer__name",
                "value_type",
                "value_basis",
                "current_value",
                "future_value",
            )
        )
        if not rows:
            # None of the customers of the user's teams is in the analysis.
            return render(request, "customers/portfolio.html", {"run": run, "none_visible": True})
        frame = pd.DataFrame(rows)
        frame["customer"] = frame["customer__name"].where(
            frame["customer__name"] != "", frame["customer__number"]
        )
        frame["url"] = frame["customer_id"].map(lambda pk: pk_url("customers:detail", pk))
        figure = portfolio_chart(frame)
        # A logarithmic axis cannot place them: the page says where they went.
        context["at_edge"] = int(charts.not_positive(frame).sum())
        # Clicking a point opens its customer: the URL is the point's customdata.
        context["chart"] = guidance.chart_data(figure, "portfolio-chart", link_points=True)
        # Margin and revenue are never added up: totals and shares per basis.
        context["totals"] = value_basis.totals(frame)
        shares = value_basis.type_shares(frame)
        context["types"] = [
            {**row, "shares": [shares[t.basis].get(row["code"], 0.0) for t in context["totals"]]}
            for row in guidance.type_summary(frame)
        ]
        # The backtest's figures are the whole portfolio's: for those who see it all.
        if customers_all_visible(request.user):
            context["backtest"] = backtest_context(run)
            context["can_backtest"] = request.user.has_perm("customers.import_values")
    return render(request, "customers/portfolio.html", context)


def _compared(ratio: float | None) -> dict:
    """The forecast's error against the naive one as a percentage less (or more)."""
    if ratio is None:
        return {"ratio": None}
    change = round((ratio - 1.0) * 100.0)
    return {"ratio": ratio, "better": change < 0, "worse": change > 0, "percent": abs(change)}


def backtest_context(run: AnalysisRun) -> dict:
    """What the portfolio page's section "How good was the forecast?" shows of a run's
    backtest (customers/backtest.py)."""
    figures = run.backtest or {}
    status = figures.get("status", "")
    out = {"status": status, "figures": figures}
    if status != "done" or not figures.get("overall"):
        return out
    overall = figures["overall"]
    labels = dict(ValueType.choices)
    out["overall"] = {**overall, **_compared(overall["ratio"])}
    out["types"] = [
        {
            **row,
            "label": labels.get(row["value_type"], row["value_type"]),
            **_compared(row["ratio"]),
        }
        for row in figures.get("types", [])
    ]
    out["left_out"] = figures.get("left_out_short", 0) + figures.get("left_out_new", 0)
    activity = figures.get("activity")
    if activity:
        out["activity"] = {
            **activity,
            "bands": [
                {
                    **band,
                    "low_pct": band["low"] * 100,
                    "high_pct": band["high"] * 100,
                    "predicted_pct": band["predicted"] * 100,
                    "share_pct": band["share_buying"] * 100,
                }
                for band in activity.get("bands", [])
            ],
        }
    figure = charts.calibration(
        figures.get("calibration", []),
        labels={
            "forecast": _("Mean forecast"),
            "actual": _("Mean actual value"),
            "groups": _("Tenths of the customers by forecast"),
            "customers": _("customers"),
            "perfect": _("Forecast = actual"),
        },
        separators=plotly_separators(),
        currency=currency_affixes(),
    )
    out["chart"] = guidance.chart_data(figure, "backtest-chart")
    return out


@require_POST
@permission_required("customers.import_values", raise_exception=True)
def backtest_request(request: HtmxHttpRequest) -> HttpResponse:
    """Queue the backtest of the latest run (portfolios above the automatic limit)."""
    run = latest_run()
    if run is not None and services.analysis_run_backtest_request(run):
        backtest_task.enqueue(run.pk)
        messages.success(request, _("The backtest runs in the background; reload in a moment."))
    return redirect("customers:portfolio")


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def customer_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    customer = customer_get_for_user(request.user, pk)
    assessments = assessment_history(customer)  # one per period, oldest first
    latest = max(assessments, key=lambda a: (a.run.created_at, a.run_id), default=None)
    records = pd.DataFrame(customer_records(customer))  # summed over the products
    chart = None
    if not records.empty:
        chart = guidance.history_chart(customer, records, latest)
    context = {
        "customer": customer,
        "latest": latest,
        "explanation": guidance.explain(latest) if latest else [],
        "reason": guidance.reason(latest) if latest else "",
        "timeline": guidance.timeline(assessments),
        "warning": guidance.early_warning(assessments),
        "chart": chart,
        "actor_form": ActorLinkForm(instance=customer),
        "products": product_assessment_list(customer, latest.run if latest else None),
        "records": records.tail(24).iloc[::-1].to_dict("records") if not records.empty else [],
        # One "create action" button per chain of the customer's actor the user may change.
        "action_chains": chains_for_actor_actions(request.user, customer.actor_id),
    }
    return render(request, "customers/detail.html", context)


@require_POST
@permission_required("customers.import_values", raise_exception=True)
def customer_link_actor(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    customer = customer_get_for_user(request.user, pk)
    form = ActorLinkForm(request.POST, instance=customer)
    if form.is_valid():
        form.save()
        messages.success(request, _("Chain actor saved."))
    else:
        messages.error(request, _("Choose an actor from the catalog."))
    return redirect(customer)


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def focus(request: HtmxHttpRequest) -> HttpResponse:
    run = latest_run()
    context = {"run": run}
    if run:
        assessments = list(assessment_list_for_user(run, request.user))
        context.update(guidance.focus_lists(assessments))
        # Profitability needs margins: ranked among the margin customers only, the
        # customers without margin data are listed apart.
        ranked, others, n_others = value_basis.profitability_split(assessments)
        title = value_basis.profitability_title()
        profit = dict(guidance.focus_lists(ranked)["goals"]).get(title, [])
        context["goals"] = [
            (goal, profit if goal == title else entries) for goal, entries in context["goals"]
        ]
        context.update(profitability=title, no_margin=others, no_margin_count=n_others)
    return render(request, "customers/focus.html", context)


EXPORT_COLUMNS = [
    "customer_number",
    "customer_name",
    "value_type",
    "value_basis",
    "current_value",
    "future_value",
]
EXPORT_FIELDS = [
    "customer__number",
    "customer__name",
    "value_type",
    "value_basis",
    "current_value",
    "future_value",
    "hidden_pearl",
    "cost_review",
    "figures",
]


def _export_records(run: AnalysisRun | None, user: User) -> tuple[list[str], list[dict]]:
    """The export's columns and one record per customer, by customer number.

    Columns: EXPORT_COLUMNS, the two flags, then the explaining figures in the order they
    first occur, which is how pandas orders the columns of such records. Read as plain
    values (no model instances), in one query. Codes and machine names: `_localise` and
    `_export_headers` put them into the reader's words.
    """
    if not run:
        return list(EXPORT_COLUMNS), []
    rows = (
        assessment_list_for_user(run, user).order_by("customer__number").values_list(*EXPORT_FIELDS)
    )
    records = [
        {
            "customer_number": number,
            "customer_name": name,
            "value_type": value_type,
            "value_basis": basis,
            "current_value": round(current, 2),
            "future_value": round(future, 2),
            "hidden_pearl": pearl,
            "cost_review": cost_review,
            **figures,
        }
        for number, name, value_type, basis, current, future, pearl, cost_review, figures in (
            rows.iterator(chunk_size=5000)
        )
    ]
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    return list(columns), records


# Export column names in the reader's words; the explaining figures are named as on the
# customer page (guidance.FIGURES). The command line's result file keeps the codes.
EXPORT_HEADERS = {
    "customer_number": gettext_lazy("Customer number"),
    "customer_name": gettext_lazy("Customer name"),
    "value_type": gettext_lazy("Value type"),
    "value_basis": gettext_lazy("Value basis"),
    "current_value": gettext_lazy("Current value"),
    "future_value": gettext_lazy("Future value"),
    "hidden_pearl": gettext_lazy("hidden pearl"),
    "cost_review": gettext_lazy("cost review"),
    "forecast_path": gettext_lazy("forecast per period"),
}


def _export_headers(columns: list[str]) -> list[str]:
    """The column names in the active language; a figure without a label keeps its code,
    and so does one whose label is taken (a spreadsheet needs distinct headings)."""
    headers: list[str] = []
    for column in columns:
        label = EXPORT_HEADERS.get(column) or guidance.FIGURES.get(column, (column, ""))[0]
        text = str(capfirst(label))
        headers.append(column if text in headers else text)
    return headers


def _localise(records: list[dict]) -> None:
    """Value types, value bases and the two flags in the active language, in place."""
    types = {code: str(capfirst(label)) for code, label in ValueType.choices}
    bases = value_basis.labels()
    answers = {True: _("yes"), False: _("no")}
    for record in records:
        record["value_type"] = types.get(record["value_type"], record["value_type"])
        record["value_basis"] = bases.get(record["value_basis"], record["value_basis"])
        for flag in ("hidden_pearl", "cost_review"):
            record[flag] = answers.get(record[flag], record[flag])


def _export_frame(run: AnalysisRun | None, user: User) -> pd.DataFrame:
    columns, records = _export_records(run, user)
    _localise(records)
    return pd.DataFrame(records, columns=columns).set_axis(_export_headers(columns), axis=1)


def _csv_text(value: object) -> object:
    """A text cell no spreadsheet runs as a formula ("=", "+", "-", "@" first get an
    apostrophe), without control characters; numbers as they are."""
    return csv_safe(strip_control(value)) if isinstance(value, str) else value


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def export_csv(request: HttpRequest) -> HttpResponse:
    frame = _export_frame(latest_run(), request.user)
    for column in frame.select_dtypes(exclude=["number", "bool"]).columns:  # the texts
        frame[column] = frame[column].map(_csv_text)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="customer-assessments.csv"'
    frame.to_csv(response, index=False, quoting=csv.QUOTE_MINIMAL)
    return response


# Numbers stay numeric cells; a number format lets the spreadsheet show them grouped, in
# the reader's own locale (Excel swaps the separators), and fractions as percentages.
XLSX_FORMATS = {"money": "#,##0.00", "int": "#,##0", "percent": "0.0%", "ratio": "0.00"}
# Customer names and other texts stay text: never formulas ("=..."), never links.
XLSX_OPTIONS = {
    "constant_memory": True,  # each row goes to a temporary file once the next one starts
    "strings_to_formulas": False,
    "strings_to_urls": False,
}


def _xlsx_number_format(column: str) -> str | None:
    kind = "money" if column in ("current_value", "future_value") else None
    return XLSX_FORMATS.get(kind or guidance.FIGURES.get(column, ("", ""))[1])


def _xlsx_cell(value: object) -> object:
    """A record's value as XlsxWriter should write it.

    NaN becomes an empty cell, infinity the text "inf" or "-inf" as pandas writes it in
    the CSV export, and anything that is not a plain number, truth value or text (a
    forecast path is a list) its text. Control characters are dropped from texts, as
    before: XlsxWriter would write them as "_x0007_", which Excel reads back but pandas
    and openpyxl show as such.
    """
    kind = value.__class__
    if kind is float:
        if math.isfinite(value):
            return value
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if kind is str:
        return strip_control(value)
    if value is None or kind is int or kind is bool:
        return value
    return strip_control(str(value))


def _assessments_sheet(
    book: Workbook,
    sheet: Worksheet,
    columns: list[str],
    records: list[dict],
    headers: list[str] | None = None,
) -> None:
    """The header row (`headers`, else the codes), then one row per customer; each column
    with its number format.

    A cell without a format of its own takes its column's, so only the empty cells (which
    XlsxWriter leaves out unless they have a format) get it written with them.
    """
    formats: list[Format | None] = []
    for index, column in enumerate(columns):
        number_format = _xlsx_number_format(column)
        formats.append(book.add_format({"num_format": number_format}) if number_format else None)
        if number_format:
            sheet.set_column(index, index, None, formats[-1])
    plain = book.add_format()  # the header keeps the General format of the default style
    sheet.write_row(0, 0, headers or columns, plain)
    formatted = [(index, format_) for index, format_ in enumerate(formats) if format_]
    for row, record in enumerate(records, start=1):
        values = [_xlsx_cell(record.get(column)) for column in columns]
        sheet.write_row(row, 0, values)
        for index, format_ in formatted:
            if values[index] is None:
                sheet.write_blank(row, index, None, format_)


def _portfolio_summary(run: AnalysisRun, user: User) -> dict[str, list[dict]]:
    """Per value basis present (margin first; margin alone when there are no customers):
    customers and summed current and future value per value type, every type in order.

    Summed by the database over the stored values, not over the export's rounded cents;
    margin and revenue apart, never added up.
    """
    sums = {
        (row["value_basis"], row["value_type"]): row
        for row in assessment_list_for_user(run, user)
        .order_by()
        .values("value_basis", "value_type")
        .annotate(n=Count("pk"), current=Sum("current_value"), future=Sum("future_value"))
    }
    present = [b for b in value_basis.BASES if any(key[0] == b for key in sums)]
    return {
        basis: [
            {
                "code": code,
                "label": str(capfirst(label)),
                "n": sums.get((basis, code), {}).get("n", 0),
                "current": sums.get((basis, code), {}).get("current") or 0.0,
                "future": sums.get((basis, code), {}).get("future") or 0.0,
            }
            for code, label in ValueType.choices
        ]
        for basis in present or [value_basis.MARGIN]
    }


def _portfolio_chart(frame: pd.DataFrame, summary: dict[str, list[dict]]) -> bytes:
    """The portfolio chart as PNG, its texts in the active language."""
    counts = frame["value_type"].value_counts()  # customers, on either basis
    labels = {
        # Translators: a legend entry of the portfolio chart: value type (number of customers).
        row["code"]: _("%(type)s (%(count)s)")
        % {"type": row["label"], "count": number(int(counts.get(row["code"], 0)))}
        for row in next(iter(summary.values()))
    }
    return export_chart.portfolio_png(
        frame[export_chart.PORTFOLIO_COLUMNS],
        labels=labels,
        bases=_basis_labels(),
        axis={
            "current": _("Current value (last 12 periods)"),
            "future": _("Future value"),
            "no_change": _("No change"),
            "log": _("Logarithmic scale"),
        },
        money=lambda value: money(value, 0),
    )


def _portfolio_sheet(
    book: Workbook, sheet: Worksheet, run: AnalysisRun | None, frame: pd.DataFrame, user: User
) -> None:
    """Sums per value type, one table per value basis, then the portfolio chart as a
    picture below them."""
    if not run:
        sheet.write_string(0, 0, _("No analysis yet."))
        return
    for column, width in enumerate((30, 12, 20, 20)):
        sheet.set_column(column, column, width)
    title = _("Analysis as of %(as_of)s") % {"as_of": date_format(run.as_of, "F Y")}
    sheet.write_string(0, 0, title, book.add_format({"bold": True, "font_size": 13}))
    bold = book.add_format({"bold": True})
    headers = [_("Value type"), _("Customers"), _("Current value"), _("Future value")]
    titles = {
        value_basis.MARGIN: _("Valued by contribution margin"),
        value_basis.REVENUE: _("Valued by revenue (no margin data)"),
    }
    summary = _portfolio_summary(run, user)
    body = [None, *(book.add_format({"num_format": XLSX_FORMATS[k]}) for k in ("int", "money"))]
    totals = [
        book.add_format({"bold": True, "num_format": XLSX_FORMATS[kind]})
        for kind in ("int", "money", "money")
    ]
    # Per basis: its title, the header, one row per type, then its total; a blank row.
    total, start = 0, 2
    for basis, lines in summary.items():
        sheet.write_string(start, 0, titles[basis], bold)
        sheet.write_row(start + 1, 0, headers, bold)
        for row, line in enumerate(lines, start=start + 2):
            sheet.write_string(row, 0, line["label"])
            sheet.write_number(row, 1, line["n"], body[1])
            sheet.write_number(row, 2, line["current"], body[2])
            sheet.write_number(row, 3, line["future"], body[2])
        total = start + 2 + len(lines)
        sheet.write_string(total, 0, _("Total"), bold)
        for column, key in enumerate(("n", "current", "future")):
            sheet.write_number(total, column + 1, sum(line[key] for line in lines), totals[column])
        start = total + 2
    if not frame.empty:  # a run over no customers has nothing to draw
        # XlsxWriter sizes a picture by its resolution; shown at its pixel size instead.
        scale = export_chart.DPI / 96
        sheet.insert_image(
            total + 2,
            0,
            "portfolio.png",
            {
                "image_data": io.BytesIO(_portfolio_chart(frame, summary)),
                "x_scale": scale,
                "y_scale": scale,
            },
        )


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def export_xlsx(request: HttpRequest) -> HttpResponse:
    """The assessments, then the portfolio with its chart, in the reader's language.

    XlsxWriter in constant memory mode: 29 cells for each of up to 100,000 customers.
    """
    run = latest_run()
    columns, records = _export_records(run, request.user)
    buffer = io.BytesIO()
    book = Workbook(buffer, XLSX_OPTIONS)
    chart = pd.DataFrame(
        [[record[column] for column in export_chart.PORTFOLIO_COLUMNS] for record in records],
        columns=export_chart.PORTFOLIO_COLUMNS,
    )
    _localise(records)
    # Sheet names are at most 31 characters and some signs are not allowed in them.
    sheet = book.add_worksheet(re.sub(r"[\\[\]:*?/]", "", _("Assessments"))[:31])
    _assessments_sheet(book, sheet, columns, records, _export_headers(columns))
    # Sheet names are at most 31 characters and some signs are not allowed in them.
    title = re.sub(r"[\\[\]:*?/]", "", _("Portfolio"))[:31]
    _portfolio_sheet(book, book.add_worksheet(title), run, chart, request.user)
    book.close()
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="customer-assessments.xlsx"'
    return response


@require_http_methods(["GET", "POST"])
@permission_required("customers.import_values", raise_exception=True)
def import_values(request: HtmxHttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        batch = services.import_batch_start(user=request.user, upload=form.cleaned_data["file"])
        return redirect("customers:import-detail", pk=batch.pk)
    # Imports whose worker stopped would show "running" for ever.
    services.import_batches_recover()
    batches = ImportBatch.objects.select_related("uploaded_by")[:20]
    return render(request, "customers/import.html", {"form": form, "batches": batches})


def _job_progress() -> tuple[int, int, int] | None:
    """The running chunked analysis's chunk passes done, in all, and percent; its chunks
    whose worker is gone are queued again here too (customers/jobs.py)."""
    job = jobs.running_job()
    if job is None:
        return None
    jobs.analysis_chunks_recover()
    done, total = jobs.job_progress(job)
    return done, total, (100 * done // total) if total else 0


@require_GET
@permission_required("customers.import_values", raise_exception=True)
def import_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(ImportBatch, pk=pk)
    # Polled every second while the job runs: an abandoned job ends here, and so does
    # the polling.
    batch = services.import_batch_recover_if_abandoned(batch)
    template = "customers/import_detail.html"
    if request.htmx:
        template += "#batch-status"
    return render(request, template, {"batch": batch})


@require_POST
@permission_required("customers.import_values", raise_exception=True)
def analyse(request: HtmxHttpRequest) -> HttpResponse:
    analyse_task.enqueue(request.user.pk)
    messages.success(request, _("The analysis runs in the background; reload in a moment."))
    return redirect("customers:list")
