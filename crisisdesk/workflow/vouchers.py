"""Voucher codes: unguessable, readable aloud, and checked for typos before the store is asked.

A code is 15 characters drawn with :mod:`secrets` from a 31-symbol alphabet without the characters
people confuse (0/O, 1/I/L), about 74 bits of randomness, so guessing a valid code is hopeless
even for someone who holds many of them. A 16th character is a check symbol: a weighted sum modulo
31 (a prime), which catches every single wrong character and every swap of two neighbours, so a
mistyped code is rejected as malformed instead of being looked up. Codes are shown and stored in
groups of four (``ABCD-EFGH-JKMN-PQRS``); :func:`normalise_code` accepts any case, spaces and dashes.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RANDOM_CHARS = 15
GROUP = 4
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_SEPARATORS = str.maketrans("", "", " -_.\t\n")


def check_char(body: str) -> str:
    """The check symbol of ``body`` (characters of :data:`ALPHABET`).

    Weights 1..n are distinct and smaller than 31, so a swap of two different neighbours always
    changes the sum modulo 31.

    >>> check_char("AAAA") == check_char("AAAA")
    True
    >>> check_char("AB") != check_char("BA")
    True
    """
    total = sum((i + 1) * _VALUE[ch] for i, ch in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def _group(raw: str) -> str:
    return "-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP))


def new_code() -> str:
    """A fresh code in its stored form.

    >>> code = new_code()
    >>> len(code), code.count("-"), is_well_formed(code)
    (19, 3, True)
    """
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARS))
    return _group(body + check_char(body))


def normalise_code(code: str) -> str:
    """The stored form of a code as a person typed it: any case, spaces or dashes.

    >>> normalise_code(" abcd efgh-jkmn pqrs ")
    'ABCD-EFGH-JKMN-PQRS'
    """
    raw = code.translate(_SEPARATORS).upper()
    if len(raw) != RANDOM_CHARS + 1:
        return raw[:64]
    return _group(raw)


def is_well_formed(code: str) -> bool:
    """True when ``code`` (stored form or as typed) has the right length, alphabet and check.

    >>> is_well_formed(new_code())
    True
    >>> is_well_formed("ABCD-EFGH-JKMN-PQR0")
    False
    """
    raw = code.translate(_SEPARATORS).upper()
    if len(raw) != RANDOM_CHARS + 1 or any(ch not in _VALUE for ch in raw):
        return False
    return check_char(raw[:-1]) == raw[-1]
