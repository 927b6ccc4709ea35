"""Reasons in words that also remember how they were made, so they can be said in any language.

The desk explains every score with reasons a person reads. Signals build them as :class:`Reason`
values: the English sentence itself (what the JSON API and the command line print), carrying a
stable code and its parameters, so the web interface says them from the catalog entry
``reason.<code>`` (``crisisdesk.web.i18n.translate_reason``) without parsing English back.
"""

from __future__ import annotations

from typing import Any


class Reason(str):
    """A reason in English words that remembers how it was made.

    It is a ``str``, so JSON, joins and comparisons see the English sentence as before; ``code``
    and ``params`` let a reader in another language get the same sentence from a catalog entry
    ``reason.<code>`` (see ``crisisdesk.web.i18n.translate_reason``). A parameter may itself be a
    reason, or a list of reasons (joined with ``"; "``), and is then translated too.

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


def _words(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return value
