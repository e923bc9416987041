"""Mustache templates of triggers: syntax checks, rendering escaped for the
target format, and validation with hostile values.

Formats (how ``{{name}}`` values are escaped; ``{{{name}}}`` is never escaped):

* ``json``: JSON string escaping, so ``"{{alert_message}}"`` stays one valid
  string whatever the message holds (quotes, newlines, ``</script>``);
* ``slack``: ``json`` plus Slack's own control characters (``&``, ``<``,
  ``>`` as entities), so a value cannot mention ``<!channel>`` or forge a link;
* ``html``: HTML escaping (``& < > " '``);
* ``text``: none (plain-text email bodies, Apprise messages);
* ``line``: none, and line breaks become spaces (email subjects, titles).

Booleans render as ``true`` / ``false`` (valid JSON), ``None`` as nothing;
a missing variable renders as nothing. Partials and changed delimiters are
not supported (a template is one self-contained string).

``validate`` is what a save calls: the template must parse, every section
must be closed, every variable must be known, and the template rendered with
hostile sample values (see ``notifications.variables.sample_variables``) must
still be valid JSON (``json``/``slack``) or carry no raw markup (``html``).
Its ``TemplateError`` message is the reason shown next to the field.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import pystache
from pystache.parser import ParsingError
from pystache.parser import parse as _parse

JSON = "json"
SLACK = "slack"
HTML = "html"
TEXT = "text"
LINE = "line"
FORMATS = (JSON, SLACK, HTML, TEXT, LINE)

MAX_TEMPLATE_CHARS = 20_000
MAX_OUTPUT_CHARS = 500_000
# Markup that must never come out of an HTML template raw (the hostile samples carry it).
HOSTILE_MARKUP = "<script>"

_TRIPLE = re.compile(r"\{\{\{(.*?)\}\}\}", re.DOTALL)
_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")


class TemplateError(ValueError):
    """A template that cannot be used, with the reason for people."""


def escape_json(value: str) -> str:
    """The inside of a JSON string literal for ``value`` (no surrounding quotes)."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


def escape_slack(value: str) -> str:
    """Slack's mrkdwn control characters as entities, then JSON escaping."""
    text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escape_json(text)


def escape_html(value: str) -> str:
    return html.escape(value, quote=True)


def escape_line(value: str) -> str:
    return " ".join(value.splitlines())


def _identity(value: str) -> str:
    return value


ESCAPES = {JSON: escape_json, SLACK: escape_slack, HTML: escape_html, TEXT: _identity}
ESCAPES[LINE] = escape_line


class _Renderer(pystache.Renderer):
    """Booleans as JSON literals, ``None`` as nothing."""

    def str_coerce(self, val: Any) -> str:
        if isinstance(val, bool):
            return "true" if val else "false"
        if val is None:
            return ""
        return str(val)


def _line_of(source: str, index: int) -> int:
    return source.count("\n", 0, index) + 1


def check_syntax(source: str, known: Iterable[str] | None = None) -> None:
    """Raise ``TemplateError`` for what pystache would silently accept or guess at:
    unclosed or mismatched sections, unterminated tags, partials, delimiter
    changes, and (when ``known`` is given) variables that do not exist."""
    if not isinstance(source, str):
        raise TemplateError("A template must be text.")
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateError(f"At most {MAX_TEMPLATE_CHARS} characters.")
    if "\x00" in source:
        raise TemplateError("The template contains a NUL character.")
    names = set(known) if known is not None else None
    tags: list[tuple[int, str, bool]] = []  # (position, inside, triple)
    masked = source
    for match in _TRIPLE.finditer(source):
        tags.append((match.start(), match.group(1), True))
        masked = masked[: match.start()] + " " * len(match.group(0)) + masked[match.end() :]
    for match in _TAG.finditer(masked):
        tags.append((match.start(), match.group(1), False))
        masked = masked[: match.start()] + " " * len(match.group(0)) + masked[match.end() :]
    stray = masked.find("{{")
    if stray >= 0:
        raise TemplateError(f"Line {_line_of(source, stray)}: '{{{{' is never closed by '}}}}'.")
    stack: list[tuple[str, int]] = []
    for position, inside, triple in sorted(tags):
        line = _line_of(source, position)
        text = inside.strip()
        sigil = text[:1] if not triple and text[:1] in "#^/&!>=" else ""
        if sigil == "!":
            continue  # a comment
        if sigil == "=":
            raise TemplateError(
                f"Line {line}: changing delimiters ({{{{=...=}}}}) is not supported."
            )
        if sigil == ">":
            raise TemplateError(f"Line {line}: partials ({{{{>name}}}}) are not supported.")
        name = text[1:].strip() if sigil else text
        if not name:
            raise TemplateError(f"Line {line}: an empty tag.")
        if name != "." and not _NAME.match(name):
            raise TemplateError(f"Line {line}: {name[:40]!r} is not a variable name.")
        if sigil in ("#", "^"):
            stack.append((name, line))
        elif sigil == "/":
            if not stack:
                raise TemplateError(f"Line {line}: {{{{/{name}}}}} closes no open section.")
            opened, opened_line = stack.pop()
            if opened != name:
                raise TemplateError(
                    f"Line {line}: {{{{/{name}}}}} closes the section {{{{#{opened}}}}} "
                    f"opened on line {opened_line}."
                )
        if names is not None and name != "." and name.split(".")[0] not in names:
            raise TemplateError(f"Line {line}: unknown variable {{{{{name}}}}}.")
    if stack:
        name, line = stack[-1]
        raise TemplateError(f"Line {line}: the section {{{{#{name}}}}} is never closed.")
    try:
        _parsed(source)
    except ParsingError as exc:
        raise TemplateError(str(exc)) from None


@lru_cache(maxsize=512)
def _parsed(source: str) -> Any:
    return _parse(source)


def render(source: str, context: Mapping[str, Any], fmt: str) -> str:
    """``source`` rendered with ``context``, values escaped for ``fmt``."""
    renderer = _Renderer(escape=ESCAPES[fmt], partials={}, missing_tags="ignore")
    out = renderer.render(_parsed(source), dict(context))
    if len(out) > MAX_OUTPUT_CHARS:
        raise TemplateError(f"The rendered text is longer than {MAX_OUTPUT_CHARS} characters.")
    if fmt == LINE:
        out = escape_line(out).strip()
    return out


def validate(
    source: str, fmt: str, samples: Iterable[Mapping[str, Any]], known: Iterable[str]
) -> None:
    """Raise ``TemplateError`` unless ``source`` is safe to save for ``fmt``."""
    check_syntax(source, known)
    for sample in samples:
        out = render(source, sample, fmt)
        if fmt in (JSON, SLACK):
            try:
                json.loads(out)
            except ValueError as exc:
                state = "resolved" if sample.get("is_resolved") else "triggered"
                raise TemplateError(
                    f"With quotes, newlines or markup in the values (a {state} alert), "
                    f"this does not render valid JSON: {exc}. Put {{{{variables}}}} inside "
                    'quotes ("{{alert_name}}") and do not use {{{triple}}} braces.'
                ) from None
        elif fmt == HTML and out.count(HOSTILE_MARKUP) > source.count(HOSTILE_MARKUP):
            raise TemplateError(
                "A value is inserted without HTML escaping ({{{triple}}} or {{&name}}): "
                "use {{name}} so markup in a value is shown, not run."
            )
