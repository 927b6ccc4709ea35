"""Numbers as people type them into the desk's forms, in Italian or English."""

from __future__ import annotations


def decimal_text(text: str) -> str:
    """A number as a person typed it, in either language's decimals, written with a point.

    Italian writes ``10,50`` and ``1.234,50``, English ``10.50`` and ``1,234.50``. A lone comma
    followed by exactly three digits is read as a thousands separator (``1,000``), the only
    reading that cannot turn a thousand into one. Anything else is returned as it is, for the
    caller's own check to refuse.

    >>> [decimal_text(t) for t in ("10,50", " 10.5 ", "1.234,50", "1,234.50", "1,000", "dieci")]
    ['10.50', '10.5', '1234.50', '1234.50', '1000', 'dieci']
    """
    value = text.strip()
    if "," in value and "." in value:
        # whichever comes last is the decimal mark
        thousands = "." if value.rfind(",") > value.rfind(".") else ","
        value = value.replace(thousands, "").replace(",", ".")
    elif value.count(",") == 1:
        whole, _, part = value.partition(",")
        value = whole + part if len(part) == 3 else f"{whole}.{part}"
    return value
