"""Security headers and reverse-proxy support."""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from .extensions import csrf

# No inline scripts or styles anywhere: every script is a file under /static.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'self'; object-src 'none'")


def init_app(app: Flask) -> None:
    if app.config.get("PROXY_FIX"):
        # Behind one reverse proxy that sets X-Forwarded-For/-Proto/-Host.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    # CSRFProtect's own check is off (WTF_CSRF_CHECK_DEFAULT=False in config.py): this one
    # runs it for every unsafe request except API calls carrying a Bearer token, which a
    # browser never adds cross-site (and which then ignore the session cookie).
    app.before_request(_csrf_unless_bearer)
    app.after_request(_headers)


def bearer_request() -> bool:
    """An /api/ request authenticated by a token rather than by the session cookie."""
    return (request.path.startswith("/api/")
            and request.headers.get("Authorization", "").lower().startswith("bearer "))


def _csrf_unless_bearer():
    if not current_app.config["WTF_CSRF_ENABLED"] or bearer_request():
        return
    csrf.protect(apply_exemptions=True)


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
