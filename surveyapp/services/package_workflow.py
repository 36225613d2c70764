"""The workflow of a submission package version (issue 11).

draft → internal review → approved by the organisation's head → submitted (frozen) → at the
office: received → returned with comments, or accepted → published. The head may also send
a version under review, or approved, back to draft. Which role does each step is the policy's
(``STEPS`` names the policy action of each; auth/policy.py decides); this module checks
that the step follows the workflow (``PACKAGE_TRANSITIONS``), freezes the snapshot on
submission, records the step (``package_transition`` and the audit log) and notifies the
people concerned, in one commit. E-mail, when an SMTP server is configured, goes out after
the commit as a background job.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import InvalidTransition
from ..extensions import db
from ..models import Membership, PackageTransition, PackageVersion, User
from ..models._types import utcnow
from ..models.codes import (
    PACKAGE_STATUS_LABELS,
    PACKAGE_TRANSITIONS,
    AuditAction,
    PackageStatus,
    Role,
)
from . import audit, notifications, package_snapshot

# (from, to) -> the policy action allowed to take the step.
STEPS: dict[tuple[PackageStatus, PackageStatus], str] = {
    (PackageStatus.DRAFT, PackageStatus.INTERNAL_REVIEW): "package.request_review",
    (PackageStatus.INTERNAL_REVIEW, PackageStatus.DRAFT): "package.reopen",
    (PackageStatus.APPROVED, PackageStatus.DRAFT): "package.reopen",
    (PackageStatus.INTERNAL_REVIEW, PackageStatus.APPROVED): "package.approve",
    (PackageStatus.APPROVED, PackageStatus.SUBMITTED): "package.submit",
    (PackageStatus.SUBMITTED, PackageStatus.RECEIVED): "package.receive",
    (PackageStatus.RECEIVED, PackageStatus.RETURNED): "package.return",
    (PackageStatus.RECEIVED, PackageStatus.ACCEPTED): "package.accept",
    (PackageStatus.ACCEPTED, PackageStatus.PUBLISHED): "package.publish",
}

# Who is told of each step: the organisation's heads, its package staff, the office.
HEADS, STAFF, OFFICE = "heads", "staff", "office"
RECIPIENTS: dict[PackageStatus, tuple[str, ...]] = {
    PackageStatus.INTERNAL_REVIEW: (HEADS,),
    PackageStatus.DRAFT: (STAFF,),
    PackageStatus.APPROVED: (STAFF,),
    PackageStatus.SUBMITTED: (OFFICE, STAFF),
    PackageStatus.RECEIVED: (STAFF,),
    PackageStatus.RETURNED: (STAFF,),
    PackageStatus.ACCEPTED: (STAFF,),
    PackageStatus.PUBLISHED: (STAFF, OFFICE),
}
COMMENT_MAX = 5000


def next_steps(version: PackageVersion) -> list[tuple[PackageStatus, str]]:
    """(target status, policy action) of every step the workflow allows from here."""
    current = PackageStatus(version.status)
    return [(target, STEPS[(current, target)]) for target in PACKAGE_TRANSITIONS[current]]


def record_creation(actor: User | None, version: PackageVersion) -> None:
    """The first line of a version's history (in the caller's unit of work)."""
    db.session.add(PackageTransition(version=version, from_status=None,
                                     to_status=version.status,
                                     actor_id=getattr(actor, "id", None),
                                     actor_label=actor.login if actor is not None else "cli",
                                     comment=""))


def _recipients(version: PackageVersion, groups: tuple[str, ...], actor: User | None) -> list[int]:
    org_id = version.package.organisation_id
    roles: dict[str, tuple[Role, ...]] = {HEADS: (Role.ORG_ADMIN,),
                                          STAFF: (Role.ORG_ADMIN, Role.ANALYST)}
    ids: set[int] = set()
    for group in groups:
        query = select(Membership.user_id).join(User).where(User.active.is_(True))
        if group == OFFICE:
            query = query.where(Membership.role == Role.OFFICE_REVIEWER.value)
        else:
            query = query.where(Membership.organisation_id == org_id,
                                Membership.role.in_([r.value for r in roles[group]]))
        ids.update(db.session.scalars(query))
    ids.discard(getattr(actor, "id", None))
    return sorted(ids)


def transition(actor: User | None, version: PackageVersion, target: str,
               comment: str = "") -> PackageVersion:
    """Take one workflow step (the caller has checked the policy for ``STEPS``'s action).

    Refused with a Vietnamese message (nothing stored) when the workflow does not allow it,
    when a version without surveys leaves the draft, or when a return has no comment.
    Submission freezes the snapshot. One commit, then the e-mail job (if configured).
    """
    try:
        target_status = PackageStatus(target)
    except ValueError:
        raise InvalidTransition(_("Unknown status.")) from None
    current = PackageStatus(version.status)
    if target_status not in PACKAGE_TRANSITIONS[current]:
        raise InvalidTransition(_("A package version cannot go from “%(current)s” to "
                                  "“%(target)s”.", current=PACKAGE_STATUS_LABELS[current],
                                  target=PACKAGE_STATUS_LABELS[target_status]))
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise InvalidTransition(_("The comment may have at most %(n)d characters.",
                                  n=COMMENT_MAX))
    if target_status == PackageStatus.RETURNED and not comment:
        raise InvalidTransition(_("Say why the package is returned: the comment is required."))
    if current == PackageStatus.DRAFT and not version.surveys:
        raise InvalidTransition(_("Add at least one analysed survey to the package."))
    step = PackageTransition(version=version, from_status=current.value,
                             to_status=target_status.value,
                             actor_id=getattr(actor, "id", None),
                             actor_label=actor.login if actor is not None else "cli",
                             comment=comment)
    db.session.add(step)
    now = utcnow()
    version.status = target_status.value
    version.status_changed_at = now
    if target_status == PackageStatus.PUBLISHED:
        version.published_at = now
    db.session.flush()  # the step's time is part of the snapshot
    if target_status == PackageStatus.SUBMITTED:
        package_snapshot.freeze(version)
    package = version.package
    audit.record(actor, AuditAction.STATE, version, before={"status": current.value},
                 after={"status": target_status.value, "digest": version.digest,
                        "comment": comment},
                 organisation_id=package.organisation_id,
                 summary=f"package {package.year} v{version.number}: {target_status.value}")
    created = notifications.notify(
        _recipients(version, RECIPIENTS[target_status], actor), f"package.{target_status.value}",
        version, actor, {"title": version.title, "number": version.number,
                         "year": package.year, "organisation": package.organisation.name,
                         "comment": comment})
    db.session.commit()
    notifications.send_mail_later(actor, created)
    return version
