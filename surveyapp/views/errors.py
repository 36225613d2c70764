"""Error pages (Vietnamese first) and JSON errors for the API; 500 rolls the session back."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..errors import DomainError
from ..extensions import db

log = logging.getLogger(__name__)


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood. Please check what you "
                                  "entered and try again.")),
        401: (_("Sign-in required"), _("Please sign in.")),
        403: (_("Access denied"), _("You do not have permission to see this page.")),
        404: (_("Page not found"), _("The page or object you asked for does not exist.")),
        405: (_("Method not allowed"), _("This address does not accept that kind of request.")),
        409: (_("Conflict"), _("The change conflicts with the current state.")),
        413: (_("File too large"), _("The file is larger than the allowed size.")),
        500: (_("Server error"), _("Something went wrong on our side. Nothing was saved. "
                                   "Please try again later.")),
    }


def _render(status: int, detail: str | None = None):
    title, message = _messages().get(status, (_("Error"), _("An error occurred.")))
    if request.path.startswith("/api/"):
        return jsonify({"error": detail or message, "status": status}), status
    return render_template("errors/error.html", status=status, title=title,
                           message=detail or message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return _render(400, _("Your session has expired or the form is out of date. Reload the "
                              "page and try again."))

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        return _render(exc.status_code, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _render(exc.code or 500)

    @app.errorhandler(Exception)
    def server_error(exc: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _render(500)
