"""Page-number paging for the API's lists, with a bounded page number.

django-ninja's PageNumberPagination takes any page number; a huge one makes an OFFSET the
database refuses (an error 500). Here the page is at most MAX_PAGE (422 beyond it), which
still reaches millions of rows at the largest page size.
"""

from ninja import Field, Schema
from ninja.pagination import PageNumberPagination as NinjaPageNumberPagination

MAX_PAGE = 1_000_000


class PageNumberPagination(NinjaPageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1)
