"""Encryption at rest of respondents' identifying data (Decision 104/2024, Art. 3.4).

Identifying data (the API's ``respondent`` object, the frame's label columns of a sampled
case) are stored as Fernet tokens (AES-128-CBC + HMAC-SHA256, from ``cryptography``) of
their canonical JSON. The keys come from ``RESPONDENT_KEYS`` (a list, the first is the
current key; see config.py); a ``MultiFernet`` over all of them decrypts a token made with
any listed key, so putting a new key first keeps old rows readable until
``flask respondents rotate-key`` re-encrypts them with it, after which the old key can be
dropped from the list.

The column type :data:`EncryptedJSON` encrypts on write and decrypts on read, for ORM and
Core statements alike, so services keep working with plain dicts.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator


class RespondentKeyError(RuntimeError):
    """Keys missing or malformed, or a stored token that no configured key opens."""


def parse_keys(value) -> list[str]:
    """A list of Fernet keys from a list or a comma-separated string (first = current)."""
    if isinstance(value, str):
        value = value.split(",")
    keys = [str(k).strip() for k in (value or []) if str(k).strip()]
    for i, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise RespondentKeyError(
                f"RESPONDENT_KEYS: key {i} is not a Fernet key (32 url-safe base64 bytes; "
                "make one with `flask respondents new-key`)") from exc
    return keys


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


_CACHE: dict[tuple[str, ...], MultiFernet] = {}


def keyring(keys: list[str] | tuple[str, ...] | None = None) -> MultiFernet:
    """The MultiFernet of the given keys (default: the current app's RESPONDENT_KEYS)."""
    if keys is None:
        keys = current_app.config.get("RESPONDENT_KEYS") or []
    keys = tuple(parse_keys(list(keys)))
    if not keys:
        raise RespondentKeyError("RESPONDENT_KEYS is empty: no key to encrypt identifying data")
    ring = _CACHE.get(keys)
    if ring is None:
        ring = MultiFernet([Fernet(k.encode("ascii")) for k in keys])
        _CACHE[keys] = ring
    return ring


def encrypt_json(value, ring: MultiFernet | None = None) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (ring or keyring()).encrypt(text.encode("utf-8")).decode("ascii")


def decrypt_json(token: str, ring: MultiFernet | None = None):
    try:
        text = (ring or keyring()).decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise RespondentKeyError(
            "identifying data cannot be decrypted with any key in RESPONDENT_KEYS "
            "(was a key dropped before `flask respondents rotate-key` ran?)") from exc
    return json.loads(text)


def rotate_token(token: str, ring: MultiFernet | None = None) -> str:
    """The same plaintext encrypted with the current (first) key."""
    try:
        return (ring or keyring()).rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise RespondentKeyError(
            "identifying data cannot be decrypted with any key in RESPONDENT_KEYS") from exc


class EncryptedJSON(TypeDecorator):
    """A JSON document stored as a Fernet token (text) under the respondent keys."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return encrypt_json(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return decrypt_json(value)
