"""Customer value pages: list, portfolio, customer, focus list, import, exports."""

import csv
import io
import re
import uuid
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.drawing.image import Image
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from chain.templatetags.chain_urls import pk_url

from . import charts, export_chart, guidance, xlsx
from .forms import ActorLinkForm, UploadForm
from .models import AnalysisRun, Assessment, Customer, ImportBatch, ValueType
from .selectors import assessment_list, latest_run
from .tasks import analyse_task, import_task
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
    assessments = assessment_list(run) if run else Assessment.objects.none()
    value_type = request.GET.get("type", "")
    if value_type in ValueType.values:
        assessments = assessments.filter(value_type=value_type)
    q = request.GET.get("q", "").strip()
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
        "page": page,
        "types": ValueType.choices,
        "value_type": value_type,
        "q": q,
        "sort": sort,
        "query": query.urlencode(),
        "can_import": request.user.has_perm("customers.import_values"),
    }
    template = "customers/list.html#customer-table" if request.htmx else "customers/list.html"
    return render(request, template, context)


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def portfolio(request: HtmxHttpRequest) -> HttpResponse:
    run = latest_run()
    context = {"run": run}
    if run:
        rows = list(
            assessment_list(run).values(
                "customer_id",
                "customer__number",
                "customer__name",
                "value_type",
                "current_value",
                "future_value",
            )
        )
        frame = pd.DataFrame(rows)
        frame["customer"] = frame["customer__name"].where(
            frame["customer__name"] != "", frame["customer__number"]
        )
        frame["url"] = frame["customer_id"].map(lambda pk: pk_url("customers:detail", pk))
        labels = {code: str(capfirst(label)) for code, label in ValueType.choices}
        figure = charts.portfolio(
            frame,
            labels=labels,
            axis={
                "current": _("Current value (last 12 periods)"),
                "future": _("Future value"),
                "linear": _("Linear scale"),
                "log": _("Logarithmic scale"),
            },
            separators=plotly_separators(),
            currency=currency_affixes(),
        )
        # Clicking a point opens its customer: the URL is the point's customdata.
        context["chart"] = guidance.chart_data(figure, "portfolio-chart", link_points=True)
        context["types"] = guidance.type_summary(frame)
    return render(request, "customers/portfolio.html", context)


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def customer_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer.objects.select_related("actor"), pk=pk)
    assessments = list(
        customer.assessments.select_related("run").order_by("run__created_at", "run__pk")
    )
    latest = assessments[-1] if assessments else None
    records = pd.DataFrame(
        list(customer.records.order_by("period").values("period", "revenue", "margin"))
    )
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
        "records": records.tail(24).iloc[::-1].to_dict("records") if not records.empty else [],
    }
    return render(request, "customers/detail.html", context)


@require_POST
@permission_required("customers.import_values", raise_exception=True)
def customer_link_actor(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
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
        assessments = list(assessment_list(run))
        context.update(guidance.focus_lists(assessments))
    return render(request, "customers/focus.html", context)


EXPORT_COLUMNS = ["customer_number", "customer_name", "value_type", "current_value", "future_value"]
EXPORT_FIELDS = [
    "customer__number",
    "customer__name",
    "value_type",
    "current_value",
    "future_value",
    "hidden_pearl",
    "cost_review",
    "figures",
]


def _export_records(run: AnalysisRun | None) -> tuple[list[str], list[dict]]:
    """The export's columns and one record per customer, by customer number.

    Columns: EXPORT_COLUMNS, the two flags, then the explaining figures in the order they
    first occur, which is how pandas orders the columns of such records. Read as plain
    values (no model instances), in one query.
    """
    if not run:
        return list(EXPORT_COLUMNS), []
    rows = assessment_list(run).order_by("customer__number").values_list(*EXPORT_FIELDS)
    records = [
        {
            "customer_number": number,
            "customer_name": name,
            "value_type": value_type,
            "current_value": round(current, 2),
            "future_value": round(future, 2),
            "hidden_pearl": hidden_pearl,
            "cost_review": cost_review,
            **figures,
        }
        for number, name, value_type, current, future, hidden_pearl, cost_review, figures in (
            rows.iterator(chunk_size=5000)
        )
    ]
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    return list(columns), records


def _export_frame(run: AnalysisRun | None) -> pd.DataFrame:
    columns, records = _export_records(run)
    return pd.DataFrame(records, columns=columns)


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def export_csv(request: HttpRequest) -> HttpResponse:
    frame = _export_frame(latest_run())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="customer-assessments.csv"'
    frame.to_csv(response, index=False, quoting=csv.QUOTE_MINIMAL)
    return response


# Numbers stay numeric cells; a number format lets the spreadsheet show them grouped, in
# the reader's own locale (Excel swaps the separators), and fractions as percentages.
XLSX_FORMATS = {"money": "#,##0.00", "int": "#,##0", "percent": "0.0%", "ratio": "0.00"}


def _xlsx_number_format(column: str) -> str | None:
    kind = "money" if column in ("current_value", "future_value") else None
    return XLSX_FORMATS.get(kind or guidance.FIGURES.get(column, ("", ""))[1])


def _xlsx_styles(sheet: WriteOnlyWorksheet, columns: list[str]) -> list[int | None]:
    """Each column's cell style (its number format), or None for a plain column."""
    formats = [_xlsx_number_format(column) for column in columns]
    return [xlsx.style_index(sheet, format_) if format_ else None for format_ in formats]


def _portfolio_summary(run: AnalysisRun) -> list[dict]:
    """Customers and summed current and future value per value type, every type in order.

    Summed by the database over the stored values, not over the export's rounded cents.
    """
    sums = {
        row["value_type"]: row
        for row in Assessment.objects.filter(run=run)
        .order_by()
        .values("value_type")
        .annotate(n=Count("pk"), current=Sum("current_value"), future=Sum("future_value"))
    }
    return [
        {
            "code": code,
            "label": str(capfirst(label)),
            "n": sums.get(code, {}).get("n", 0),
            "current": sums.get(code, {}).get("current") or 0.0,
            "future": sums.get(code, {}).get("future") or 0.0,
        }
        for code, label in ValueType.choices
    ]


def _portfolio_chart(frame: pd.DataFrame, summary: list[dict]) -> bytes:
    """The portfolio chart as PNG, its texts in the active language."""
    labels = {
        # Translators: a legend entry of the portfolio chart: value type (number of customers).
        row["code"]: _("%(type)s (%(count)s)") % {"type": row["label"], "count": number(row["n"])}
        for row in summary
    }
    return export_chart.portfolio_png(
        frame[export_chart.PORTFOLIO_COLUMNS],
        labels=labels,
        axis={
            "current": _("Current value (last 12 periods)"),
            "future": _("Future value"),
            "no_change": _("No change"),
            "log": _("Logarithmic scale"),
        },
        money=lambda value: money(value, 0),
    )


def _styled(
    sheet: WriteOnlyWorksheet, value, *, font: Font | None = None, kind: str = ""
) -> WriteOnlyCell:
    """A cell of the portfolio sheet with a font and a number format (XLSX_FORMATS kind)."""
    cell = WriteOnlyCell(sheet, value)
    if font:
        cell.font = font
    if kind:
        cell.number_format = XLSX_FORMATS[kind]
    return cell


def _portfolio_sheet(
    sheet: WriteOnlyWorksheet, run: AnalysisRun | None, frame: pd.DataFrame
) -> None:
    """Sums per value type, then the portfolio chart as a picture below them.

    A write-only sheet: column widths first, then the rows top to bottom.
    """
    if not run:
        sheet.append([_("No analysis yet.")])
        return
    for column, width in zip("ABCD", (30, 12, 20, 20), strict=True):
        sheet.column_dimensions[column].width = width
    title = _("Analysis as of %(as_of)s") % {"as_of": date_format(run.as_of, "F Y")}
    sheet.append([_styled(sheet, title, font=Font(bold=True, size=13))])
    sheet.append([])
    bold = Font(bold=True)
    headers = [_("Value type"), _("Customers"), _("Current value"), _("Future value")]
    sheet.append([_styled(sheet, header, font=bold) for header in headers])
    summary = _portfolio_summary(run)
    for row in summary:
        sheet.append(
            [
                row["label"],
                _styled(sheet, row["n"], kind="int"),
                _styled(sheet, row["current"], kind="money"),
                _styled(sheet, row["future"], kind="money"),
            ]
        )
    sheet.append(
        [
            _styled(sheet, _("Total"), font=bold),
            _styled(sheet, sum(row["n"] for row in summary), font=bold, kind="int"),
            _styled(sheet, sum(row["current"] for row in summary), font=bold, kind="money"),
            _styled(sheet, sum(row["future"] for row in summary), font=bold, kind="money"),
        ]
    )
    if not frame.empty:  # a run over no customers has nothing to draw
        total = 4 + len(summary)  # title, blank, header, one row per type, then the total
        picture = Image(io.BytesIO(_portfolio_chart(frame, summary)))
        sheet.add_image(picture, f"A{total + 2}")


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def export_xlsx(request: HttpRequest) -> HttpResponse:
    """The assessments (machine-stable column names), then the portfolio with its chart.

    openpyxl in write-only mode makes the workbook; the assessments' data rows, 29 cells
    for each of up to 100,000 customers, are added as text afterwards (see customers.xlsx).
    """
    run = latest_run()
    columns, records = _export_records(run)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("assessments")
    styles = _xlsx_styles(sheet, columns)
    sheet.append(columns)
    chart = pd.DataFrame(
        [[record[column] for column in export_chart.PORTFOLIO_COLUMNS] for record in records],
        columns=export_chart.PORTFOLIO_COLUMNS,
    )
    # Sheet names are at most 31 characters and some signs are not allowed in them.
    title = re.sub(r"[\\[\]:*?/]", "", _("Portfolio"))[:31]
    _portfolio_sheet(book.create_sheet(title), run, chart)
    buffer = io.BytesIO()
    book.save(buffer)
    rows = [map(record.get, columns) for record in records]
    response = HttpResponse(
        xlsx.rows_insert(buffer.getvalue(), sheet=sheet, rows=rows, styles=styles),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="customer-assessments.xlsx"'
    return response


@require_http_methods(["GET", "POST"])
@permission_required("customers.import_values", raise_exception=True)
def import_values(request: HtmxHttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        folder = Path(settings.MEDIA_ROOT) / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()}"
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        batch = ImportBatch.objects.create(uploaded_by=request.user, file_name=upload.name)
        import_task.enqueue(batch.pk, str(path), translation.get_language())
        return redirect("customers:import-detail", pk=batch.pk)
    batches = ImportBatch.objects.select_related("uploaded_by")[:20]
    return render(request, "customers/import.html", {"form": form, "batches": batches})


@require_GET
@permission_required("customers.import_values", raise_exception=True)
def import_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(ImportBatch, pk=pk)
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
