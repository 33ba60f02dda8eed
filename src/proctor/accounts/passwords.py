"""Approver passwords: argon2id (RFC 9106) through ``argon2-cffi``, with its default parameters.

Every check costs the same whether the account exists, is locked, or is disabled: an unknown e-mail
is checked against a hash of a random password made once per process (:func:`verify_dummy`).
"""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from proctor.errors import ValidationError

__all__ = [
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "check_password_rules",
    "hash_password",
    "token_hash",
    "verify",
    "verify_dummy",
]


def token_hash(token: str) -> str:
    """What the store keeps of a session token or an OIDC state: its hex SHA-256."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


MIN_PASSWORD = 12
MAX_PASSWORD = 1024
_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (t=3, m=64 MiB, p=4)


def check_password_rules(password: str) -> str:
    """A new password: at least :data:`MIN_PASSWORD` characters, at most :data:`MAX_PASSWORD`.

    >>> check_password_rules("short")
    Traceback (most recent call last):
    ...
    proctor.errors.ValidationError: a password has at least 12 characters
    """
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"a password has at least {MIN_PASSWORD} characters", field="password")
    if len(password) > MAX_PASSWORD:
        raise ValidationError(f"a password has at most {MAX_PASSWORD} characters", field="password")
    return password


def hash_password(password: str) -> str:
    return _HASHER.hash(check_password_rules(password))


def verify(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; False for a mismatch or a hash that is not argon2."""
    if len(password) > MAX_PASSWORD:
        password = password[:MAX_PASSWORD]  # same work as any other wrong password
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(24))


def verify_dummy(password: str) -> None:
    """Do the work of one failed check, for an e-mail that has no account (no timing oracle)."""
    verify(_dummy_hash(), password)
