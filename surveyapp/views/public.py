"""The public results pages (no sign-in): published results per year and agency, with the
methodology, the publishing organisation and each package's digest and its check."""

from __future__ import annotations

from flask import Blueprint, render_template

from ..auth.policy import public
from ..services import public_pages
from ._helpers import found_or_404, load_published

bp = Blueprint("public", __name__, url_prefix="/results")


@bp.route("/")
@public
def index():
    """The years with published results."""
    return render_template("public/index.html", **public_pages.index_page())


@bp.route("/<int:year>")
@public
def year(year: int):
    """A year's published results: each organisation's package, agencies, digests."""
    return render_template("public/year.html", **found_or_404(public_pages.year_page(year)))


@bp.route("/<int:year>/agencies/<agency_code>")
@public
def agency(year: int, agency_code: str):
    """One agency's published results of a year: dimension scores with their intervals."""
    return render_template("public/agency.html",
                           **found_or_404(public_pages.agency_page(year, agency_code)))


@bp.route("/packages/<int:package_version_id>")
@public
def package(package_version_id: int):
    """A published package version: its results, methodology, findings and digest."""
    version = load_published(package_version_id)
    return render_template("public/package.html", **public_pages.version_page(version))


@bp.route("/packages/<int:package_version_id>/check")
@public
def check(package_version_id: int):
    """Check a published version against its digest, now."""
    version = load_published(package_version_id)
    return render_template("public/check.html", **public_pages.check_page(version))
