"""Parser for FCM topic conditions ("'a' in topics && ('b' in topics || !('c' in topics))")."""
from __future__ import annotations

import re

#: "You can include up to five topics in your conditional expression" (FCM send-message guide).
MAX_CONDITION_TOPICS = 5
TOPIC_NAME = re.compile(r"[a-zA-Z0-9\-_.~%]{1,900}")

_TOKEN = re.compile(
    r"\s*(?:(?P<topic>'[^']*'|\"[^\"]*\")\s+in\s+topics\b|(?P<op>&&|\|\||!|\(|\)))"
)


class ConditionError(ValueError):
    """The condition is not a valid FCM topic expression; the message says where."""


def parse_condition(text: str) -> frozenset[str]:
    """Check `text` is a well-formed condition and return the topics it names.

    Terms are `'name' in topics`, joined with `&&`, `||`, `!` and parentheses.
    """
    tokens = _tokenize(text)
    position = _expression(tokens, 0, text)
    if position != len(tokens):
        raise ConditionError(f"unexpected {tokens[position]!r} in condition {text!r}")
    topics = frozenset(token[1:-1] for token in tokens if token[0] in "'\"")
    if len(topics) > MAX_CONDITION_TOPICS:
        raise ConditionError(
            f"condition names {len(topics)} topics; FCM allows at most {MAX_CONDITION_TOPICS}"
        )
    return topics


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise ConditionError(f"cannot read condition {text!r} at character {position}")
        topic = match.group("topic")
        if topic is not None:
            if not TOPIC_NAME.fullmatch(topic[1:-1]):
                raise ConditionError(f"invalid topic name {topic} in condition")
            tokens.append(topic)
        else:
            tokens.append(match.group("op"))
        position = match.end()
    if not tokens:
        raise ConditionError("condition is empty")
    return tokens


def _expression(tokens: list[str], position: int, text: str) -> int:
    position = _unary(tokens, position, text)
    while position < len(tokens) and tokens[position] in ("&&", "||"):
        position = _unary(tokens, position + 1, text)
    return position


def _unary(tokens: list[str], position: int, text: str) -> int:
    if position >= len(tokens):
        raise ConditionError(f"condition {text!r} ends where a term is expected")
    token = tokens[position]
    if token == "!":
        return _unary(tokens, position + 1, text)
    if token == "(":
        position = _expression(tokens, position + 1, text)
        if position >= len(tokens) or tokens[position] != ")":
            raise ConditionError(f"unbalanced parenthesis in condition {text!r}")
        return position + 1
    if token[0] in "'\"":
        return position + 1
    raise ConditionError(f"unexpected {token!r} in condition {text!r}")
