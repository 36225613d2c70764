"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) and its SHA-256 digest.

The frozen submission packages are hashed over these bytes, so anyone holding a package's
JSON can recompute its digest with any RFC 8785 implementation. The serialisation is the
``rfc8785`` library's (Trail of Bits); this module only fixes the one way the app calls it
and turns its refusals (NaN, infinities, integers beyond ±2**53) into one error.
"""

from __future__ import annotations

import hashlib

import rfc8785


class NotCanonicalisable(ValueError):
    """The value has no RFC 8785 form (NaN or an infinity, an integer beyond IEEE 754's
    exact range, a key that is not a string, or a type JSON does not have)."""


def canonicalize(value) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value (dicts, lists, str, int, float,
    bool, None)."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise NotCanonicalisable(str(exc)) from None


def digest(value) -> str:
    """SHA-256 (lower-case hex) of the canonical bytes of ``value``."""
    return hashlib.sha256(canonicalize(value)).hexdigest()
