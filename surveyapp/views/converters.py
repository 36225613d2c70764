"""URL converters: ``<int:…>`` ids bounded to the database's integer range.

An id past PostgreSQL's ``integer`` (or SQLite's 64-bit) range made the database driver
raise, i.e. a 500, for a URL anyone can type; bounded, such a URL matches no route (404).
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

from ..models._types import MAX_ID


class BoundedIntegerConverter(IntegerConverter):
    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app: Flask) -> None:
    # Before any blueprint: a rule binds its converters when it is added.
    app.url_map.converters["int"] = BoundedIntegerConverter
