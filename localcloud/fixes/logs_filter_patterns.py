"""CloudWatch Logs JSON filter patterns (``{ $.level = "ERROR" }``) select events as on AWS; moto 5.2.5 matches every
event with them.

AWS behaviour ("Filter pattern syntax for metric filters, subscription filters, and filter log events", section
"Using filter patterns to match terms in JSON log events"): a pattern in braces tests fields of events whose message
is a JSON object, and never matches any other event. A condition is a property selector (``$.a.b``, ``$.list[0]``)
with ``=``/``!=`` and a string (quoted or bare, ``*`` as a wildcard) or a number, with ``<``, ``>``, ``<=``,
``>=`` and a number, or ``IS TRUE``, ``IS FALSE``, ``IS NULL``, ``EXISTS``, ``NOT EXISTS``; conditions combine with
``&&`` and ``||`` (``&&`` binding tighter) and parentheses. A selector naming no field satisfies no comparison.

moto gap: ``moto.logs.models.EventMessageFilter`` treats any pattern that does not start with a letter or a quote as
"unsupported" and matches everything. This fix replaces the name moto's Logs models use with a factory that gives
JSON patterns their own matcher and leaves every other pattern to moto.

Cost, not behaviour: ``LogStream.filter_log_events`` built a new matcher (parsing the pattern again) for every event
it looked at, under the logs lock that the Lambda runtime's writes wait for; a reader polling a busy function's log
group paid it for every event in every stream at every poll. Here one matcher serves the whole call, and the events,
their order and their fields are moto's.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable
from typing import Any

from moto.logs import models

from localcloud.patches import install

_MISSING = object()
_TOKEN = re.compile(
    r"""\s*(?:(?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))|(?P<string>"(?:[^"\\]|\\.)*")|(?P<selector>\$(?:\.[^\s.=!<>()\[\]&|]+|\[\d+\])*)|(?P<word>[^\s=!<>()&|"]+))"""
)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


class FilterPatternError(ValueError):
    """The pattern is not a JSON filter pattern this matcher reads (moto's matcher gets it instead)."""


def _tokens(body: str) -> list[tuple[str, str]]:
    found, position = [], 0
    while position < len(body.rstrip()):
        match = _TOKEN.match(body, position)
        if match is None:
            raise FilterPatternError(f"cannot read {body[position:]!r}")
        position = match.end()
        kind = match.lastgroup or "word"
        found.append((kind, match.group(kind)))
    return found


def _field(document: Any, selector: str) -> Any:
    """The value a property selector names, or _MISSING."""
    for name, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", selector[1:]):
        if name and isinstance(document, dict) and name in document:
            document = document[name]
        elif index and isinstance(document, list) and int(index) < len(document):
            document = document[int(index)]
        else:
            return _MISSING
    return document


def _as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return None
    return json.dumps(value)


def _compare(value: Any, op: str, operand: tuple[str, str]) -> bool:
    kind, literal = operand
    if value is _MISSING:
        return False
    number = kind == "word" and _NUMBER.fullmatch(literal)
    if number and isinstance(value, int | float) and not isinstance(value, bool):
        target = float(literal)
        return {"=": value == target, "!=": value != target, "<": value < target, ">": value > target,
                "<=": value <= target, ">=": value >= target}[op]  # fmt: skip
    if op not in ("=", "!="):
        return False  # a numeric comparison holds only for a number
    text = json.loads(literal) if kind == "string" else literal
    actual = _as_text(value)
    equal = actual is not None and fnmatch.fnmatchcase(actual, text.replace("[", "[[]"))
    return equal if op == "=" else (actual is not None and not equal)


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.at = tokens, 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FilterPatternError("the pattern ends too early")
        self.at += 1
        return token

    def either(self) -> Callable[[Any], bool]:
        return self._joined("||", self.both, any)

    def both(self) -> Callable[[Any], bool]:
        return self._joined("&&", self.condition, all)

    def _joined(self, operator: str, term: Callable[[], Callable[[Any], bool]], combine: Callable) -> Callable:
        """``term (operator term)*``: the terms' tests combined with ``any`` (||) or ``all`` (&&)."""
        terms = [term()]
        while self.peek() == ("op", operator):
            self.take()
            terms.append(term())
        return lambda doc: combine(test(doc) for test in terms)

    def condition(self) -> Callable[[Any], bool]:
        kind, text = self.take()
        if (kind, text) == ("op", "("):
            inner = self.either()
            if self.take() != ("op", ")"):
                raise FilterPatternError("a parenthesis is not closed")
            return inner
        if kind != "selector":
            raise FilterPatternError(f"expected a property selector, found {text!r}")
        kind2, word = self.take()
        if kind2 == "op" and word in ("=", "!=", "<", ">", "<=", ">="):
            operand = self.take()
            if operand[0] not in ("string", "word"):
                raise FilterPatternError(f"expected a value after {word}")
            return lambda doc: _compare(_field(doc, text), word, operand)
        return self._keyword(text, word.upper())

    def _keyword(self, selector: str, word: str) -> Callable[[Any], bool]:
        if word == "EXISTS":
            return lambda doc: _field(doc, selector) is not _MISSING
        if word == "NOT" and self.take()[1].upper() == "EXISTS":
            return lambda doc: _field(doc, selector) is _MISSING
        if word == "IS":
            expected = {"TRUE": True, "FALSE": False, "NULL": None}.get(self.take()[1].upper(), _MISSING)
            if expected is not _MISSING:
                return lambda doc: (value := _field(doc, selector)) is not _MISSING and value is expected
        raise FilterPatternError(f"cannot read the condition on {selector}")


class JsonFilterPattern:
    """A compiled ``{ ... }`` pattern: ``matches(message)`` as moto's filters offer it."""

    def __init__(self, pattern: str) -> None:
        parser = _Parser(_tokens(pattern.strip()[1:-1]))
        self._test = parser.either()
        if parser.peek() is not None:
            raise FilterPatternError(f"unexpected {parser.peek()[1]!r}")

    def matches(self, message: str) -> bool:
        try:
            document = json.loads(message)
        except ValueError:
            return False
        return isinstance(document, dict) and self._test(document)


def event_filter(original: Any) -> Callable[[str], Any]:
    def EventMessageFilter(pattern: str) -> Any:
        text = (pattern or "").strip()
        if text.startswith("{") and text.endswith("}"):
            try:
                return JsonFilterPattern(text)
            except FilterPatternError:
                pass  # not a pattern this reads: moto's matcher, as before
        return original(pattern)

    return EventMessageFilter


def filter_log_events(self: Any, start_time: int, end_time: int, filter_pattern: str) -> list[dict[str, Any]]:
    """moto's ``LogStream.filter_log_events``, with one matcher for the call instead of one per event."""
    matches = models.EventMessageFilter(filter_pattern).matches
    selected = [
        event
        for event in self.events
        if not (start_time and event.timestamp < start_time)
        and not (end_time and event.timestamp > end_time)
        and matches(event.message)
    ]
    selected.sort(key=lambda event: event.timestamp)  # stable, as moto's sorted()
    return [{**event.to_filter_dict(), "logStreamName": self.log_stream_name} for event in selected]


def apply() -> None:
    install(models, "EventMessageFilter", event_filter(models.EventMessageFilter))
    install(models.LogStream, "filter_log_events", filter_log_events)
