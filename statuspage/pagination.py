"""API pagination: page-number paging with a ``results`` key and a bounded page size."""

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """``?page=N&page_size=M`` (at most 500) -> ``{count, next, previous, results}``."""

    page_size_query_param = "page_size"
    max_page_size = 500
