"""Platform tokens encrypted at rest.

Page tokens act on a brand's public presence, so they are never stored in clear: they are
encrypted with Fernet (AES-128-CBC with an HMAC-SHA256, from ``cryptography``) under a key the
operator keeps outside the database (``CRISISDESK_TOKEN_KEY``). A copied database without the key
gives nothing away. Decrypted tokens travel as :class:`~crisisdesk.settings.Secret`, whose ``repr``
is masked, so they do not reach logs or tracebacks by accident.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from crisisdesk.settings import Secret, Settings


class TokenKeyError(RuntimeError):
    """The token key is missing, malformed or not the one the tokens were encrypted with."""


KEY_HELP = (
    "set CRISISDESK_TOKEN_KEY to a Fernet key, e.g. export CRISISDESK_TOKEN_KEY="
    "\"$(python3 -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')\""
)


def generate_key() -> str:
    """A fresh key for ``CRISISDESK_TOKEN_KEY``.

    >>> len(generate_key())
    44
    """
    return Fernet.generate_key().decode("ascii")


class TokenBox:
    """Encrypts and decrypts platform tokens with one key.

    >>> box = TokenBox(generate_key())
    >>> box.decrypt(box.encrypt("EAAB-page-token")).reveal()
    'EAAB-page-token'
    >>> box
    TokenBox(key=**********)
    """

    def __init__(self, key: str | Secret) -> None:
        raw = key.reveal() if isinstance(key, Secret) else key
        if not raw:
            raise TokenKeyError("no token key: " + KEY_HELP)
        try:
            self._fernet = Fernet(raw.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise TokenKeyError(
                "the token key is not a valid Fernet key (32 url-safe base64-encoded bytes): "
                + KEY_HELP
            ) from None

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenBox:
        return cls(settings.token_key)

    def __repr__(self) -> str:
        return "TokenBox(key=**********)"

    def encrypt(self, token: str | Secret) -> bytes:
        raw = token.reveal() if isinstance(token, Secret) else token
        if not raw:
            raise ValueError("empty token")
        return self._fernet.encrypt(raw.encode("utf-8"))

    def decrypt(self, blob: bytes) -> Secret:
        try:
            return Secret(self._fernet.decrypt(blob).decode("utf-8"))
        except InvalidToken:
            raise TokenKeyError(
                "a stored token cannot be decrypted with this CRISISDESK_TOKEN_KEY "
                "(was the key changed? connect the account again)"
            ) from None
