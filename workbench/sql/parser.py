"""Split a script into statements and parse each one, with positioned errors.

Statements the stock grammar does not cover (``SET``, ``RESET``, ``SHOW``,
``EXPLAIN``, ``DESCRIBE``) are recognised here; everything else goes to the
sqlglot parser with the :class:`~workbench.sql.dialect.Flink` dialect. Every
position is an offset into the whole script, so an error in the third
statement of a cell points at the right line of the cell.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import Token, TokenType

from workbench.errors import Position, SqlSyntaxError
from workbench.sql.dialect import Flink

StatementKind = Literal[
    "query",
    "create_table",
    "create_view",
    "drop",
    "insert",
    "set",
    "reset",
    "show",
    "explain",
    "describe",
]

STATEMENT_KEYWORDS = (
    "SELECT",
    "WITH",
    "VALUES",
    "INSERT",
    "CREATE",
    "DROP",
    "SET",
    "RESET",
    "SHOW",
    "EXPLAIN",
    "DESCRIBE",
    "DESC",
)

SQL_KEYWORDS = (
    *STATEMENT_KEYWORDS,
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "HAVING",
    "ORDER",
    "LIMIT",
    "JOIN",
    "LEFT",
    "RIGHT",
    "FULL",
    "INNER",
    "OUTER",
    "CROSS",
    "ON",
    "AS",
    "AND",
    "OR",
    "NOT",
    "UNION",
    "ALL",
    "DISTINCT",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "TABLE",
    "VIEW",
    "INTERVAL",
    "WATERMARK",
    "PARTITION",
    "OVER",
    "BETWEEN",
    "LIKE",
    "IS",
    "NULL",
    "CAST",
    "DESCRIPTOR",
    "TUMBLE",
    "HOP",
    "CUMULATE",
    "SESSION",
    "MATCH_RECOGNIZE",
)


@dataclass
class Statement:
    """One parsed statement of a script.

    ``node`` is the sqlglot tree for SQL statements. For the workbench's own
    statements it is None and ``words`` holds the parsed parts: the key and
    value of SET, the object of SHOW, the table name of DESCRIBE. ``inner``
    is the statement that EXPLAIN explains.
    """

    kind: StatementKind
    text: str
    start: int
    script: str
    node: exp.Expr | None = None
    words: tuple[str, ...] = ()
    inner: Statement | None = None

    @property
    def line(self) -> int:
        return self.script.count("\n", 0, self.start) + 1


def parse_script(script: str) -> list[Statement]:
    """Parse every statement of ``script``; raise SqlSyntaxError at the first bad one."""
    return [parse_statement(script, start, end) for start, end in split_statements(script)]


def parse_statements(script: str) -> list[Statement | SqlSyntaxError]:
    """Parse every statement of ``script``, keeping a bad statement's error in its place.

    Raises SqlSyntaxError only when the script cannot be split into
    statements (an unterminated string or quoted name).
    """
    parsed: list[Statement | SqlSyntaxError] = []
    for start, end in split_statements(script):
        try:
            parsed.append(parse_statement(script, start, end))
        except SqlSyntaxError as error:
            parsed.append(error)
    return parsed


def split_statements(script: str) -> list[tuple[int, int]]:
    """Return (start, end) offsets of each statement, split at top-level semicolons."""
    tokens = _tokenize(script)
    spans: list[tuple[int, int]] = []
    first: Token | None = None
    last: Token | None = None
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if first is not None and last is not None:
                spans.append((first.start, last.end + 1))
            first = last = None
            continue
        if first is None:
            first = token
        last = token
    if first is not None and last is not None:
        spans.append((first.start, last.end + 1))
    return spans


def parse_statement(script: str, start: int, end: int) -> Statement:
    text = script[start:end]
    first_word = re.match(r"\s*([A-Za-z_]+)", text)
    word = first_word.group(1).upper() if first_word else ""
    if word not in STATEMENT_KEYWORDS and not text.lstrip().startswith("("):
        _raise_unknown_statement(script, start, text)
    if word == "EXPLAIN":
        return _parse_explain(script, start, end)
    if word in ("SET", "RESET"):
        return _parse_set(script, start, text, word)
    if word == "SHOW":
        return _parse_show(script, start, text)
    if word in ("DESCRIBE", "DESC"):
        return _parse_describe(script, start, text)
    node = parse_sql(script, start, end)
    return Statement(kind=_kind_of(node), text=text, start=start, script=script, node=node)


def parse_sql(script: str, start: int, end: int) -> exp.Expr:
    """Parse script[start:end] with sqlglot, keeping offsets relative to the script."""
    # Blank out everything before the statement, keeping line breaks, so that
    # token positions are offsets into the whole script.
    padded = re.sub(r"[^\n]", " ", script[:start]) + script[start:end]
    try:
        nodes = sqlglot.parse(padded, read=Flink)
    except ParseError as error:
        raise _syntax_error(script, error) from None
    except TokenError as error:
        raise _token_error(script, start, end, error) from None
    except RecursionError:
        raise SqlSyntaxError(
            "the statement is nested too deeply to parse",
            sql=script,
            position=span(script, start, end),
            hint="split the expression, for example into a view or a computed column",
        ) from None
    parsed = [node for node in nodes if node is not None]
    if len(parsed) != 1:
        raise SqlSyntaxError(
            "expected exactly one statement", sql=script, position=span(script, start, end)
        )
    node = parsed[0]
    if isinstance(node, exp.Command):
        raise SqlSyntaxError(
            f"unsupported statement {node.name!r}",
            sql=script,
            position=span(script, start, end),
            hint="run SELECT, INSERT INTO, CREATE TABLE/VIEW, DROP, SET, RESET, SHOW, DESCRIBE or EXPLAIN",
        )
    return node


def _kind_of(node: exp.Expr) -> StatementKind:
    if isinstance(node, exp.Create):
        return "create_view" if str(node.args.get("kind", "")).upper() == "VIEW" else "create_table"
    if isinstance(node, exp.Drop):
        return "drop"
    if isinstance(node, exp.Insert):
        return "insert"
    return "query"


def _parse_explain(script: str, start: int, end: int) -> Statement:
    text = script[start:end]
    match = re.match(r"\s*EXPLAIN(\s+PLAN\s+FOR)?\s+", text, re.IGNORECASE)
    if not match or match.end() >= len(text):
        raise SqlSyntaxError(
            "EXPLAIN needs a statement to explain",
            sql=script,
            position=span(script, start, end),
            hint="EXPLAIN SELECT ...",
        )
    inner = parse_statement(script, start + match.end(), end)
    return Statement(kind="explain", text=text, start=start, script=script, inner=inner)


_SET = re.compile(
    r"""^\s*(SET|RESET)(?:\s+(?:'(?P<qkey>[^']*)'|(?P<key>[A-Za-z0-9_.\-]+))(?:\s*=\s*(?:'(?P<qvalue>(?:[^']|'')*)'|(?P<value>\S+)))?)?\s*$""",
    re.IGNORECASE | re.DOTALL,
)


def _parse_set(script: str, start: int, text: str, word: str) -> Statement:
    match = _SET.match(text)
    if not match:
        raise SqlSyntaxError(
            f"invalid {word} statement",
            sql=script,
            position=span(script, start, start + len(text)),
            hint="write SET 'key' = 'value' (or RESET 'key')",
        )
    key = match.group("qkey") if match.group("qkey") is not None else match.group("key")
    value = match.group("qvalue") if match.group("qvalue") is not None else match.group("value")
    if value is not None:
        value = value.replace("''", "'")
    if word == "RESET" and value is not None:
        raise SqlSyntaxError(
            "RESET takes only a key",
            sql=script,
            position=span(script, start, start + len(text)),
            hint="RESET 'key'",
        )
    if word == "SET" and key is not None and value is None:
        raise SqlSyntaxError(
            f"SET {key!r} has no value",
            sql=script,
            position=span(script, start, start + len(text)),
            hint=f"SET '{key}' = 'value'",
        )
    words = tuple(part for part in (key, value) if part is not None)
    return Statement(
        kind="set" if word == "SET" else "reset", text=text, start=start, script=script, words=words
    )


_SHOW_OBJECTS = ("TABLES", "VIEWS", "FUNCTIONS", "QUERIES", "CREATE TABLE", "CREATE VIEW")


def _parse_show(script: str, start: int, text: str) -> Statement:
    rest = text.strip()[4:].strip()
    upper = " ".join(rest.upper().split())
    for what in _SHOW_OBJECTS:
        if upper == what or (what.startswith("CREATE") and upper.startswith(what + " ")):
            name = rest.split()[-1] if what.startswith("CREATE") else ""
            words = (what, name) if name else (what,)
            return Statement(kind="show", text=text, start=start, script=script, words=words)
    raise SqlSyntaxError(
        f"cannot show {rest or 'nothing'!r}",
        sql=script,
        position=span(script, start, start + len(text)),
        hint="SHOW TABLES, SHOW VIEWS, SHOW FUNCTIONS or SHOW CREATE TABLE name",
    )


def _parse_describe(script: str, start: int, text: str) -> Statement:
    match = re.match(r"\s*(?:DESCRIBE|DESC)\s+(`[^`]+`|[A-Za-z_][\w.]*)\s*$", text, re.IGNORECASE)
    if not match:
        raise SqlSyntaxError(
            "DESCRIBE needs one table or view name",
            sql=script,
            position=span(script, start, start + len(text)),
            hint="DESCRIBE bids",
        )
    name = match.group(1).strip("`")
    return Statement(kind="describe", text=text, start=start, script=script, words=(name,))


# Errors ------------------------------------------------------------------------------


def _tokenize(script: str) -> list[Token]:
    try:
        return Flink().tokenize(script)
    except TokenError as error:
        raise _token_error(script, 0, len(script), error) from None


def span(script: str, start: int, end: int) -> Position:
    """Return the position of script[start:end]."""
    line = script.count("\n", 0, start) + 1
    column = start - (script.rfind("\n", 0, start) + 1) + 1
    return Position(line=line, column=column, start=start, end=max(end, start + 1))


def _offset_of(script: str, line: int, column: int) -> int:
    """Return the offset of a 1-based line and column."""
    offset = 0
    for _ in range(line - 1):
        newline = script.find("\n", offset)
        if newline < 0:
            break
        offset = newline + 1
    return min(offset + column - 1, len(script))


def _syntax_error(script: str, error: ParseError) -> SqlSyntaxError:
    detail = error.errors[0] if error.errors else {}
    highlight = str(detail.get("highlight") or "")
    line = int(detail.get("line") or 1)
    end_column = int(detail.get("col") or 1)
    start = _offset_of(script, line, max(1, end_column - len(highlight) + 1))
    position = span(script, start, start + max(1, len(highlight)))
    description = str(detail.get("description") or error)
    message, hint = _describe(description, highlight, script, start)
    return SqlSyntaxError(message, sql=script, position=position, hint=hint)


def _describe(description: str, highlight: str, script: str, start: int) -> tuple[str, str | None]:
    previous_word = _previous_word(script, start)
    hint = _keyword_hint(previous_word) or _keyword_hint(highlight)
    missing = re.match(
        r"Required keyword: '(\w+)' missing for <class '[\w.]*\.(\w+)'>", description
    )
    if missing:
        clause = missing.group(2).upper()
        operator = _OPERATORS.get(clause)
        if operator is None:
            return (
                f"incomplete {clause}: expected an expression after {highlight or previous_word!r}",
                hint,
            )
        found = "" if highlight.upper() == operator else f", found {highlight!r}"
        return f"expected an expression after {operator!r}{found}", hint
    if description.startswith("expected an item after"):
        return description, hint or "remove the extra separator, or write the missing item"
    if description.startswith("Expecting )"):
        return (
            f"missing ')' before {highlight!r}",
            hint or "check that every '(' has a matching ')'",
        )
    if description.startswith("Invalid expression / Unexpected token"):
        return f"unexpected {highlight!r}", hint
    if description.startswith("Expecting"):
        return description[0].lower() + description[1:], hint
    return description, hint


#: SQL operators by the name of the sqlglot node that reports them incomplete.
_OPERATORS = {
    "EQ": "=",
    "NEQ": "<>",
    "GT": ">",
    "GTE": ">=",
    "LT": "<",
    "LTE": "<=",
    "ADD": "+",
    "SUB": "-",
    "MUL": "*",
    "DIV": "/",
    "MOD": "%",
    "NEG": "-",
    "DPIPE": "||",
    "AND": "AND",
    "OR": "OR",
    "NOT": "NOT",
    "LIKE": "LIKE",
    "ILIKE": "ILIKE",
    "SIMILARTO": "SIMILAR TO",
    "IS": "IS",
}


def _previous_word(script: str, start: int) -> str:
    match = re.search(r"([A-Za-z_]+)\s*$", script[:start])
    return match.group(1) if match else ""


def _keyword_hint(word: str) -> str | None:
    if not word or word.upper() in SQL_KEYWORDS:
        return None
    close = difflib.get_close_matches(word.upper(), SQL_KEYWORDS, n=1, cutoff=0.75)
    return f"did you mean {close[0]}?" if close else None


def _token_error(script: str, start: int, end: int, error: TokenError) -> SqlSyntaxError:
    text = script[start:end]
    quote = _unterminated_quote(text)
    if quote is not None:
        offset = start + quote
        return SqlSyntaxError(
            "unterminated string literal",
            sql=script,
            position=span(script, offset, offset + 1),
            hint="close the string with ' (write '' for a quote inside a string)",
        )
    return SqlSyntaxError(
        f"cannot read the query text: {error}", sql=script, position=span(script, start, end)
    )


def _unterminated_quote(text: str) -> int | None:
    """Return the offset of a quote that opens a string never closed, if any."""
    index, open_at = 0, None
    while index < len(text):
        char = text[index]
        if open_at is None:
            if char == "-" and text.startswith("--", index):
                newline = text.find("\n", index)
                index = len(text) if newline < 0 else newline
            elif char == "'":
                open_at = index
        elif char == "'":
            if text.startswith("''", index):
                index += 1
            else:
                open_at = None
        index += 1
    return open_at


def _raise_unknown_statement(script: str, start: int, text: str) -> None:
    word_match = re.match(r"\s*(\S+)", text)
    word = word_match.group(1) if word_match else text
    offset = start + (word_match.start(1) if word_match else 0)
    close = difflib.get_close_matches(word.upper(), STATEMENT_KEYWORDS, n=1, cutoff=0.6)
    hint = (
        f"did you mean {close[0]}?"
        if close
        else "a statement starts with " + ", ".join(STATEMENT_KEYWORDS[:-1])
    )
    raise SqlSyntaxError(
        f"unknown statement {word!r}",
        sql=script,
        position=span(script, offset, offset + len(word)),
        hint=hint,
    )


def node_position(script: str, node: exp.Expr) -> Position | None:
    """Return the span of a parsed node from the positions its tokens recorded."""
    starts: list[int] = []
    ends: list[int] = []
    for child in node.walk():
        meta = child.meta if child._meta else None
        if meta and "start" in meta:
            starts.append(int(meta["start"]))
            ends.append(int(meta["end"]) + 1)
    if not starts:
        return None
    start, end = min(starts), max(ends)
    for child in node.walk():
        if isinstance(child, (exp.Cast, exp.TryCast)):
            # The CAST keyword records no position; step back over "CAST(".
            inner = [int(c.meta["start"]) for c in child.walk() if c._meta and "start" in c.meta]
            if inner:
                before = re.search(r"(?:TRY_)?CAST\s*\(\s*$", script[: min(inner)], re.IGNORECASE)
                if before is not None:
                    start = min(start, before.start())
        elif isinstance(child, exp.Func) and not child._meta:
            # Some calls (LISTAGG, a user function) record no position for their
            # name: step back over "NAME(" before the first argument.
            inner = [int(c.meta["start"]) for c in child.walk() if c._meta and "start" in c.meta]
            if inner:
                before = re.search(r"[A-Za-z_][\w.]*\s*\(\s*$", script[: min(inner)])
                if before is not None:
                    start = min(start, before.start())
    # Extend over the closing parentheses the last token leaves open: SUM(x), OVER (...).
    depth = script.count("(", start, end) - script.count(")", start, end)
    while depth > 0 and end < len(script):
        if script[end] == ")":
            depth -= 1
        elif script[end] == "(":
            depth += 1
        end += 1
    return span(script, start, end)
