"""Chain exports: the PDF report, the XLSX workbook and the diagram as PNG.

Reading the chain is enough: managers and the team's members download alike. Everything
comes out in the request's language (LocaleMiddleware has activated it). The PDF and the
PNG are built within a time limit (exports.ExportFailed): past it, a page says why and
offers the workbook instead.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import exports
from .models import Chain
from .selectors import chain_board, chain_get_for_user

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _limited_download(
    request: HttpRequest, chain: Chain, build: Callable[[], bytes], content_type: str, name: str
) -> HttpResponse:
    """The built file, or the page that explains why it could not be built in time."""
    try:
        content = build()
    except exports.ExportFailed as error:
        # 503: the server could not do it now; the page says why and offers the workbook.
        context = {"chain": chain, "message": error.message}
        return render(request, "chain/export_failed.html", context, status=503)
    return _download(content, content_type, name)


@require_GET
def chain_png(request: HttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk)
    name = exports.export_filename(chain, "diagram", "png")
    build = lambda: exports.diagram_png(chain_board(chain))  # noqa: E731
    return _limited_download(request, chain, build, "image/png", name)


@require_GET
def chain_report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk)
    name = exports.export_filename(chain, "report", "pdf")
    build = lambda: exports.report_pdf(exports.chain_export_data(chain))  # noqa: E731
    return _limited_download(request, chain, build, "application/pdf", name)


@require_GET
def chain_workbook(request: HttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk)
    xlsx = exports.workbook_xlsx(exports.chain_export_data(chain))
    return _download(xlsx, XLSX, exports.export_filename(chain, "workbook", "xlsx"))
