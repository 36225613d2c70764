"""Password hashing with argon2id.

Production uses argon2-cffi's recommended parameters (RFC 9106 "low memory" profile). The
parameters can be lowered by configuration (ARGON2_TIME_COST / ARGON2_MEMORY_COST) — the
test suite does, so that hundreds of sign-ins stay fast; hashes carry their own parameters,
and a hash made with weaker ones is upgraded at the next sign-in.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app, has_app_context

_DEFAULT = PasswordHasher()


def init_app(app: Flask) -> None:
    hasher = _DEFAULT
    if app.config.get("ARGON2_TIME_COST") or app.config.get("ARGON2_MEMORY_COST"):
        hasher = PasswordHasher(
            time_cost=int(app.config.get("ARGON2_TIME_COST") or _DEFAULT.time_cost),
            memory_cost=int(app.config.get("ARGON2_MEMORY_COST") or _DEFAULT.memory_cost),
            parallelism=1)
    app.extensions["surveyapp.passwords"] = {
        "hasher": hasher,
        # Verified against when the login is unknown, so both paths cost the same time.
        "dummy": hasher.hash("surveyapp-timing-equaliser"),
    }


def _state() -> dict:
    if has_app_context() and "surveyapp.passwords" in current_app.extensions:
        return current_app.extensions["surveyapp.passwords"]
    return {"hasher": _DEFAULT, "dummy": None}


def hash_password(password: str) -> str:
    return _state()["hasher"].hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _state()["hasher"].verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_dummy(password: str) -> None:
    """Spend the time a real check would take (the login does not exist)."""
    dummy = _state()["dummy"] or _DEFAULT.hash("surveyapp-timing-equaliser")
    verify_password(dummy, password)


def needs_rehash(password_hash: str) -> bool:
    return _state()["hasher"].check_needs_rehash(password_hash)
