"""The menu: each role sees only the entries it can use (decided by the policy)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from flask_babel import lazy_gettext as _l

from ..auth.policy import Principal, can


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool


MENU = (
    ("main.dashboard", _l("Dashboard"), "dashboard.view", "main."),
    ("campaigns.index", _l("Surveys"), "campaign.list", "campaigns."),
    ("packages.index", _l("Packages"), "package.list", "packages."),
    ("office.consolidated", _l("Consolidation"), "office.view", "office."),
    ("registry.units", _l("Registry"), "registry.view", "registry."),
    ("orgs.index", _l("Organisations"), "org.list", "orgs."),
    ("audit.index", _l("Audit log"), "audit.view", "audit."),
    ("tokens.index", _l("API tokens"), "token.manage", "tokens."),
)


def navigation(p: Principal) -> list[NavItem]:
    endpoint = request.endpoint or ""
    return [NavItem(str(label), url_for(target), endpoint.startswith(prefix))
            for target, label, action, prefix in MENU if can(action, None, p)]
