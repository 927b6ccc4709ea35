"""Reasons in words that also remember how they were made, so they can be said in any language.

The desk explains every score with reasons a person reads, and refuses bad input with reasons
too. Both are built as :class:`Reason` values: the English sentence itself (what the JSON API,
the logs and stored records see), carrying a stable code and its parameters. The web interface
says a score's reasons from its catalog entry ``reason.<code>``
(``crisisdesk.web.i18n.translate_reason``); the command line says an error from its catalog entry
``<code>`` (``crisisdesk.i18n.say_reason``). Neither parses English back, and the layers that
raise stay free of any language but the English of their logs.

An exception raised with a reason as its one argument carries it: ``str(exc)`` is the English
sentence as before, and :func:`message_of` gives back the reason itself.
"""

from __future__ import annotations

from typing import Any


class Reason(str):
    """A reason in English words that remembers how it was made.

    It is a ``str``, so JSON, joins and comparisons see the English sentence as before; ``code``
    and ``params`` let a reader in another language get the same sentence from a catalog entry
    (see ``crisisdesk.web.i18n.translate_reason`` and ``crisisdesk.i18n.say_reason``). A
    parameter may itself be a reason, or a list of reasons (joined with ``"; "``), and is then
    translated too.

    >>> r = Reason("competitor.mention", "mentions {name}", name="Acme")
    >>> r, r.code, r.params
    ('mentions Acme', 'competitor.mention', {'name': 'Acme'})
    """

    code: str
    template: str
    params: dict[str, Any]

    def __new__(cls, code: str, template: str, **params: Any) -> Reason:
        self = super().__new__(cls, template.format_map({k: _words(v) for k, v in params.items()}))
        self.code = code
        self.template = template
        self.params = params
        return self

    def __getnewargs_ex__(self) -> tuple[tuple[str, str], dict[str, Any]]:
        # Copies and pickles rebuild from the code, not from the finished sentence.
        return (self.code, self.template), self.params


def message_of(exc: BaseException) -> str:
    """What ``exc`` says: the :class:`Reason` it was raised with, so whoever shows it can say it
    in the reader's language, else its text as it is.

    >>> message_of(ValueError(Reason("row.missing", "{field} is missing", field="id"))).code
    'row.missing'
    >>> message_of(ValueError("plain words"))
    'plain words'
    """
    if len(exc.args) == 1 and isinstance(exc.args[0], Reason):
        return exc.args[0]
    return str(exc)


def _words(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return value
