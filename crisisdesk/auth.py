"""Passwords, sessions and CSRF tokens.

Passwords are hashed with Argon2id (argon2-cffi's defaults follow RFC 9106's recommendations), so a
stolen database does not give the team's passwords away. CSRF tokens are HMACs of the session id
under the desk's secret key: nothing to store, and a token from one session is useless in another.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from crisisdesk.reasons import Reason

_hasher = PasswordHasher()
# Verifying against this keeps the time of a failed login independent of whether the user exists.
_DUMMY_HASH = _hasher.hash("crisisdesk-dummy-password")

MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[A-Za-z0-9._@-]{2,100}$")


def validate_username(username: str) -> None:
    if not _USERNAME.match(username):
        raise ValueError(
            Reason("user.bad_name", "user names are 2-100 letters, digits, or . _ @ -")
        )


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(
            Reason(
                "user.short_password",
                "passwords need at least {length} characters",
                length=MIN_PASSWORD_LENGTH,
            )
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(secret_key: str, session_id: str) -> str:
    return hmac.new(
        secret_key.encode(), ("csrf:" + session_id).encode(), hashlib.sha256
    ).hexdigest()


def csrf_valid(secret_key: str, session_id: str, token: str | None) -> bool:
    if not token or not session_id:
        return False
    return hmac.compare_digest(csrf_token(secret_key, session_id), token)
