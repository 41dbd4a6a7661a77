"""One page of a list that grows with the data, for pages with one or several such lists.

It lives in ``referrals``, the lowest app with list pages, so that coordination, modules
and evaluation can use it without importing upward.
"""

from collections.abc import Sequence

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

PAGE_SIZE = 25


def paginate(
    request: HttpRequest, rows: Sequence, *, param: str = "page", per_page: int = PAGE_SIZE
) -> Page:
    """The page of ``rows`` named by the ``param`` query parameter, its rows fetched.

    A queryset costs two queries: its COUNT and the page's rows. The page carries
    ``previous_query`` and ``next_query``, query strings that keep every other parameter
    (the filters and the other lists' pages), so each list pages on its own.
    """
    page = Paginator(rows, per_page).get_page(request.GET.get(param))
    page.object_list = list(page.object_list)
    page.param = param
    page.previous_query = _with_page(request, param, page.previous_page_number, page.has_previous)
    page.next_query = _with_page(request, param, page.next_page_number, page.has_next)
    return page


def _with_page(request: HttpRequest, param: str, number, exists) -> str:
    if not exists():
        return ""
    query = request.GET.copy()
    query.pop(param, None)
    query[param] = str(number())
    return query.urlencode()
