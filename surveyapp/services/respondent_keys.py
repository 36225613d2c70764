"""Keyed hashes of respondents' contact data, stored at submission time (issue 8, QC).

The duplicate-respondent flag compares these hashes; the contact data themselves are never
copied here. The hash is computed from the plaintext respondent object of the submission
(before ``interview_respondent.data`` is encrypted) by
:func:`surveyapp.quality.flags.respondent_key`.

The HMAC key is ``RESPONDENT_HASH_KEY`` from the configuration when set, otherwise one
derived from ``SECRET_KEY`` (HMAC-SHA256 of a fixed label). Changing the key (or the secret
key without a hash key) makes earlier and later submissions no longer comparable.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from sqlalchemy import insert

from ..models import RespondentKey
from ..quality.flags import respondent_key

_INSERT_KEY = insert(RespondentKey.__table__)


def hash_key() -> bytes:
    """The HMAC key of respondents' contact data (see the module docstring)."""
    configured = current_app.config.get("RESPONDENT_HASH_KEY")
    if configured:
        return configured.encode() if isinstance(configured, str) else bytes(configured)
    secret = current_app.config.get("SECRET_KEY") or ""
    secret = secret.encode() if isinstance(secret, str) else bytes(secret)
    return hmac.new(secret, b"surveyapp respondent key v1", hashlib.sha256).digest()


def key_of(respondent: dict | None) -> str | None:
    """The keyed hash of a respondent's contact data (None if no usable contact)."""
    return respondent_key(respondent, hash_key())


def store_key(conn, version_id: int, campaign_id: int, respondent: dict | None) -> None:
    """Insert the keyed hash of one version's respondent (nothing if no usable contact)."""
    key_hash = key_of(respondent)
    if key_hash is not None:
        conn.execute(_INSERT_KEY, {"version_id": version_id, "campaign_id": campaign_id,
                                   "key_hash": key_hash})
