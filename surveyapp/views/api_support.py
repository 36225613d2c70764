"""HTTP conventions of the JSON API (/api/v1/): pagination, strong ETags and 304 answers.

Lists stay JSON arrays (the existing clients read them so); the page is chosen with
``?page=&per_page=`` and described in the headers, as RFC 8288 web links (``Link: <…>;
rel="next"``) and ``X-Total-Count``. Every successful GET carries a strong ETag, the
SHA-256 of its body, and answers ``If-None-Match`` with 304 and no body.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from flask import Response, current_app, jsonify, request, url_for
from flask_babel import gettext as _

from ..errors import ValidationFailed

API_PREFIX = "/api/v1/"
DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000


@dataclass(frozen=True)
class PageRequest:
    page: int
    per_page: int


def _whole(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    # Digits only: int() would also take "+3", " 3" or "٣".
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9 or not low <= int(raw) <= high:
        message = _("The parameter %(name)s must be a whole number from %(low)d to %(high)d.",
                    name=name, low=low, high=high)
        raise ValidationFailed(message, fields={name: message})
    return int(raw)


def page_request() -> PageRequest:
    """The request's ``?page=`` (from 1) and ``?per_page=`` (1 to 1000; 100 by default)."""
    return PageRequest(_whole("page", 1, 1, 10**9 - 1),
                       _whole("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE))


def _link(page: int, per_page: int) -> str:
    args = {**(request.view_args or {}), **request.args.to_dict(), "page": page,
            "per_page": per_page}
    return url_for(request.endpoint, **args)


def paginated(items: Sequence, page: PageRequest | None = None) -> Response:
    """One page of ``items`` (already serialisable dicts) as a JSON array, with ``Link``
    (first, prev, next, last) and ``X-Total-Count``. A page past the end is an empty array."""
    page = page or page_request()
    total = len(items)
    start = (page.page - 1) * page.per_page
    response = jsonify(list(items[start:start + page.per_page]))
    last = max(1, -(-total // page.per_page))
    links = {"first": 1, "last": last}
    if page.page > 1:
        links["prev"] = min(page.page - 1, last)
    if page.page < last:
        links["next"] = page.page + 1
    response.headers["Link"] = ", ".join(f'<{_link(n, page.per_page)}>; rel="{rel}"'
                                         for rel, n in links.items())
    response.headers["X-Total-Count"] = str(total)
    return response


def _public_endpoint() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "policy", (None,))[0] == "public"


def conditional(response: Response) -> Response:
    """After every /api/v1/ GET: a strong ETag of the body; ``If-None-Match`` → 304.

    Public answers may be stored by caches but must be revalidated (``no-cache``); the
    others depend on who asks, so only the client itself may keep them (``private``).
    """
    if (request.method not in ("GET", "HEAD") or not request.path.startswith(API_PREFIX)
            or response.status_code != 200 or response.direct_passthrough):
        return response
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest())
    public = _public_endpoint()
    response.headers["Cache-Control"] = "no-cache" if public else "private, no-cache"
    response.vary.update(("Accept-Language",) if public else
                         ("Authorization", "Cookie", "Accept-Language"))
    return response.make_conditional(request)
