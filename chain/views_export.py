"""Chain exports: the PDF report, the XLSX workbook and the diagram as PNG.

Reading the chain is enough: managers and the team's members download alike. Everything
comes out in the request's language (LocaleMiddleware has activated it).
"""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from . import exports
from .selectors import chain_board, chain_get_for_user

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def chain_png(request: HttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk)
    png = exports.diagram_png(chain_board(chain))
    return _download(png, "image/png", exports.export_filename(chain, "diagram", "png"))


@require_GET
def chain_report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk)
    pdf = exports.report_pdf(exports.chain_export_data(chain))
    return _download(pdf, "application/pdf", exports.export_filename(chain, "report", "pdf"))


@require_GET
def chain_workbook(request: HttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk)
    xlsx = exports.workbook_xlsx(exports.chain_export_data(chain))
    return _download(xlsx, XLSX, exports.export_filename(chain, "workbook", "xlsx"))
