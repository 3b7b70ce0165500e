"""The workbench SQL dialect: Flink SQL's syntax on top of sqlglot.

sqlglot's stock dialects lack what streaming SQL needs; this dialect adds:

- window table-valued functions in FROM, with ``TABLE t`` and
  ``DESCRIPTOR(col)`` arguments, positional or named (``DATA =>``):
  ``TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' MINUTES))``,
  parsed to :class:`WindowTVF`;
- ``WATERMARK FOR col AS expr`` and computed columns (``col AS expr``) in
  ``CREATE TABLE``, Flink's ``WITH ('key' = 'value')`` options, and
  ``ROW<...>``, ``ARRAY<...>``, ``MAP<...>``, ``STRING`` and ``BYTES`` types;
- ``WITHIN INTERVAL ...`` and ``SUBSET`` in ``MATCH_RECOGNIZE``;
- ``TIMESTAMPDIFF(unit, a, b)`` and ``TIMESTAMPADD(unit, n, t)`` with the unit
  first, plural interval units (``INTERVAL '5' MINUTES``) and
  ``TIMESTAMP_LTZ`` / ``TIMESTAMP(p) WITH LOCAL TIME ZONE``.

Function calls that sqlglot would rewrite into another engine's semantics
(``DATE_FORMAT`` with MySQL patterns, for example) are kept as plain calls so
that the workbench's function library gives them Flink's meaning.
"""

from __future__ import annotations

import typing as t

from sqlglot import exp, generator, parser, tokens
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokenizer_core import Token, TokenType

T = t.TypeVar("T")

WINDOW_FUNCTIONS = ("TUMBLE", "HOP", "CUMULATE", "SESSION")

# Arguments of each window function in positional order, after the table and
# the time descriptor. Named arguments use these names (DATA and TIMECOL are
# the table and the descriptor).
WINDOW_PARAMETERS: dict[str, tuple[str, ...]] = {
    "TUMBLE": ("SIZE", "OFFSET"),
    "HOP": ("SLIDE", "SIZE", "OFFSET"),
    "CUMULATE": ("STEP", "SIZE", "OFFSET"),
    "SESSION": ("GAP",),
}

_PLURAL_UNITS = {
    "SECONDS": "SECOND",
    "MINUTES": "MINUTE",
    "HOURS": "HOUR",
    "DAYS": "DAY",
    "MONTHS": "MONTH",
    "YEARS": "YEAR",
    "MILLISECONDS": "MILLISECOND",
    "MICROSECONDS": "MICROSECOND",
    "WEEKS": "WEEK",
}


class WindowTVF(exp.Expression, exp.UDTF):
    """A window table-valued function call: TUMBLE, HOP, CUMULATE or SESSION.

    ``this`` is the input (a Table or a Subquery), ``timecol`` the descriptor
    column, ``partition_by`` the SESSION partition keys, and ``params`` maps a
    parameter name (SIZE, SLIDE, STEP, OFFSET, GAP) to its interval expression.
    """

    arg_types: t.ClassVar[dict[str, bool]] = {
        "kind": True,
        "this": True,
        "timecol": True,
        "partition_by": False,
        "params": False,
        "alias": False,
        "joins": False,
        "pivots": False,
    }

    @property
    def kind(self) -> str:
        return str(self.args["kind"])

    @property
    def params(self) -> dict[str, exp.Expr]:
        return {p.name.upper(): p.expression for p in self.args.get("params") or []}


class WindowParam(exp.Expression):
    """One named argument of a window function: ``this`` is the name."""

    arg_types: t.ClassVar[dict[str, bool]] = {"this": True, "expression": True}


class MatchWithin(exp.Expression):
    """The ``WITHIN INTERVAL`` limit of a MATCH_RECOGNIZE clause."""

    arg_types: t.ClassVar[dict[str, bool]] = {"this": True}


class MatchSemantics(exp.Expression):
    """``RUNNING`` or ``FINAL`` before a navigation, an aggregate or CLASSIFIER() in MATCH_RECOGNIZE."""

    arg_types: t.ClassVar[dict[str, bool]] = {"this": True, "kind": True}


class MatchSubset(exp.Expression):
    """``SUBSET name = (var, ...)`` of a MATCH_RECOGNIZE clause."""

    arg_types: t.ClassVar[dict[str, bool]] = {"this": True, "expressions": True}


#: Keywords that start the clauses after MEASURES in MATCH_RECOGNIZE.
_CLAUSE_WORDS = frozenset({"ONE", "ALL", "AFTER", "PATTERN", "SUBSET", "DEFINE", "WITHIN"})


class FlinkTokenizer(tokens.Tokenizer):
    QUOTES: t.ClassVar = ["'"]
    IDENTIFIERS: t.ClassVar = ["`", '"']
    # As in Flink, a quote inside a string is written twice ('it''s') and a
    # backslash is an ordinary character, so regular expressions read as written.
    STRING_ESCAPES: t.ClassVar = ["'"]
    KEYWORDS: t.ClassVar = {
        **tokens.Tokenizer.KEYWORDS,
        "MATCH_RECOGNIZE": TokenType.MATCH_RECOGNIZE,
        "STRING": TokenType.TEXT,
        "BYTES": TokenType.VARBINARY,
        "TIMESTAMP_LTZ": TokenType.TIMESTAMPLTZ,
        "ROW": TokenType.STRUCT,
    }


class FlinkParser(parser.Parser):
    FUNCTIONS: t.ClassVar = {
        **parser.Parser.FUNCTIONS,
        # Keep these as plain calls: the function library implements Flink's meaning.
        "DATE_FORMAT": lambda args: exp.Anonymous(this="DATE_FORMAT", expressions=args),
        "TO_TIMESTAMP": lambda args: exp.Anonymous(this="TO_TIMESTAMP", expressions=args),
        "TO_DATE": lambda args: exp.Anonymous(this="TO_DATE", expressions=args),
        "UNIX_TIMESTAMP": lambda args: exp.Anonymous(this="UNIX_TIMESTAMP", expressions=args),
        "FROM_UNIXTIME": lambda args: exp.Anonymous(this="FROM_UNIXTIME", expressions=args),
        "SPLIT_INDEX": lambda args: exp.Anonymous(this="SPLIT_INDEX", expressions=args),
        "REGEXP_EXTRACT": lambda args: exp.Anonymous(this="REGEXP_EXTRACT", expressions=args),
        "REGEXP_REPLACE": lambda args: exp.Anonymous(this="REGEXP_REPLACE", expressions=args),
        "IF": lambda args: exp.Anonymous(this="IF", expressions=args),
        "LOG": lambda args: exp.Anonymous(this="LOG", expressions=args),
        "PERCENTILE": lambda args: exp.Anonymous(this="PERCENTILE", expressions=args),
        "APPROX_PERCENTILE": lambda args: exp.Anonymous(this="APPROX_PERCENTILE", expressions=args),
        "FIRST_VALUE": lambda args: exp.Anonymous(this="FIRST_VALUE", expressions=args),
        "LAST_VALUE": lambda args: exp.Anonymous(this="LAST_VALUE", expressions=args),
    }

    FUNCTION_PARSERS: t.ClassVar = {
        **parser.Parser.FUNCTION_PARSERS,
        "TIMESTAMPDIFF": lambda self: self._parse_timestamp_unit_function("TIMESTAMPDIFF"),
        "TIMESTAMPADD": lambda self: self._parse_timestamp_unit_function("TIMESTAMPADD"),
        "LISTAGG": lambda self: self._parse_listagg(),
        # JSON_VALUE(json, path [RETURNING type] [... ON EMPTY] [... ON ERROR])
        "JSON_VALUE": lambda self: self._parse_json_value(json_path=False),
    }

    CONSTRAINT_PARSERS: t.ClassVar = {
        **parser.Parser.CONSTRAINT_PARSERS,
        "WATERMARK": lambda self: self.expression(
            exp.WatermarkColumnConstraint(
                this=self._match(TokenType.FOR) and self._parse_column(),
                expression=self._match(TokenType.ALIAS) and self._parse_disjunction(),
            )
        ),
    }

    # SESSION is a keyword token; the legacy GROUP BY SESSION(ts, gap) calls it.
    FUNC_TOKENS: t.ClassVar = {*parser.Parser.FUNC_TOKENS, TokenType.SESSION}

    SCHEMA_UNNAMED_CONSTRAINTS: t.ClassVar = {
        *parser.Parser.SCHEMA_UNNAMED_CONSTRAINTS,
        "WATERMARK",
    }

    # Parsing --------------------------------------------------------------------

    def _parse_table(self, *args: t.Any, **kwargs: t.Any) -> exp.Expr | None:
        tvf = self._parse_window_tvf()
        if tvf is None:
            return super()._parse_table(*args, **kwargs)
        alias = self._parse_table_alias(alias_tokens=self.TABLE_ALIAS_TOKENS)
        if alias:
            tvf.set("alias", alias)
        if kwargs.get("joins"):
            for join in self._parse_joins():
                tvf.append("joins", join)
        return tvf

    def _parse_lateral(self) -> exp.Lateral | None:
        """Parse ``LATERAL TABLE(f(args)) [AS] s (a, b)`` with ``f`` a plain call.

        A table function may share its name with a built-in scalar function
        (SPLIT, say), so its call is read as a plain call, without the
        built-in's argument rules. Other LATERAL forms parse as in sqlglot.
        """
        index = self._index
        if not (
            self._match(TokenType.LATERAL)
            and self._curr
            and self._curr.text.upper() == "TABLE"
            and self._next
            and self._next.token_type == TokenType.L_PAREN
        ):
            self._retreat(index)
            return super()._parse_lateral()
        table_token = self._curr
        self._advance(2)
        name_token = self._curr
        if name_token is None or not (self._next and self._next.token_type == TokenType.L_PAREN):
            self.raise_error("Expecting a table function call in LATERAL TABLE(...)")
            return None
        self._advance(2)
        arguments = self._parse_csv(self._parse_assignment)
        self._match_r_paren()
        self._match_r_paren()
        call = exp.Anonymous(this=name_token.text, expressions=arguments)
        self._add_meta(call, name_token)
        wrapper = exp.Anonymous(this="TABLE", expressions=[call])
        self._add_meta(wrapper, table_token)
        alias = self._parse_table_alias()
        return self.expression(exp.Lateral(this=wrapper, view=False, outer=False, alias=alias))

    def _parse_window_tvf(self) -> WindowTVF | None:
        """Parse ``TABLE(TUMBLE(...))`` or a bare ``TUMBLE(TABLE ...)`` in FROM."""
        index = self._index
        wrapped = False
        if (
            self._curr
            and self._curr.text.upper() == "TABLE"
            and self._next
            and self._next.token_type == TokenType.L_PAREN
        ):
            self._advance(2)
            wrapped = True
        if not (
            self._curr
            and self._curr.text.upper() in WINDOW_FUNCTIONS
            and self._next
            and self._next.token_type == TokenType.L_PAREN
        ):
            self._retreat(index)
            return None
        name_token = self._curr
        kind = name_token.text.upper()
        self._advance(2)
        # A window function in FROM starts with TABLE or DATA =>; anything else is
        # an ordinary call (the legacy GROUP BY TUMBLE(ts, size) form, say).
        if not self._curr or (self._curr.text.upper() != "TABLE" and not self._at_named_argument()):
            self._retreat(index)
            return None
        tvf = self._parse_window_arguments(kind)
        self._match_r_paren()
        if wrapped:
            self._match_r_paren()
        self._add_meta(tvf, name_token)
        return tvf

    def _at_named_argument(self) -> bool:
        """Return whether the parser is at ``name =>``."""
        following = self._next
        return following is not None and following.token_type == TokenType.FARROW

    def _add_meta(self, node: exp.Expr, token: Token) -> None:
        node.meta.update(
            {
                "line": token.line,
                "col": token.col,
                "start": token.start,
                "end": token.end,
            }
        )

    def _parse_window_arguments(self, kind: str) -> WindowTVF:
        table: exp.Expr | None = None
        timecol: exp.Expr | None = None
        partition: list[exp.Expr] = []
        params: list[exp.Expr] = []
        positional = list(WINDOW_PARAMETERS[kind])
        while True:
            name: str | None = None
            if self._curr and self._next and self._next.token_type == TokenType.FARROW:
                name = self._curr.text.upper()
                self._advance(2)
            if self._curr and self._curr.text.upper() == "TABLE" and name in (None, "DATA"):
                self._advance()
                table = self._parse_window_input()
                if self._match(TokenType.PARTITION_BY):
                    partition = self._parse_session_partition()
            elif (
                self._curr and self._curr.text.upper() == "DESCRIPTOR" and name in (None, "TIMECOL")
            ):
                self._advance()
                self._match_l_paren()
                timecol = self._parse_column()
                self._match_r_paren()
            else:
                value = self._parse_assignment()
                if value is None:
                    self.raise_error(f"Expecting an interval argument of {kind}")
                if name is None:
                    if not positional:
                        self.raise_error(f"Too many arguments for {kind}")
                    name = positional.pop(0)
                elif name in positional:
                    positional.remove(name)
                params.append(self.expression(WindowParam(this=exp.var(name), expression=value)))
            if not self._match(TokenType.COMMA):
                break
        if table is None:
            self.raise_error(f"Expecting TABLE <name> as the first argument of {kind}")
        if timecol is None:
            self.raise_error(f"Expecting DESCRIPTOR(<time column>) in {kind}")
        return WindowTVF(
            kind=kind,
            this=table,
            timecol=timecol,
            partition_by=partition,
            params=params,
        )

    def _parse_session_partition(self) -> list[exp.Expr]:
        """Parse SESSION's partition keys, which end where DESCRIPTOR or a parameter starts."""
        if self._match(TokenType.L_PAREN):
            wrapped = [key for key in self._parse_csv(self._parse_assignment) if key is not None]
            self._match_r_paren()
            return wrapped
        keys: list[exp.Expr] = []
        while True:
            key = self._parse_assignment()
            if key is not None:
                keys.append(key)
            if not self._match(TokenType.COMMA):
                return keys
            following = self._curr.text.upper() if self._curr else ""
            named = self._next is not None and self._next.token_type == TokenType.FARROW
            if following in ("DESCRIPTOR", "INTERVAL") or named:
                self._retreat(self._index - 1)
                return keys

    def _parse_window_input(self) -> exp.Expr | None:
        if self._match(TokenType.L_PAREN, advance=False):
            return self._parse_select(table=True)
        return self._parse_table_parts()

    def _parse_timestamp_unit_function(self, name: str) -> exp.Expr:
        # The function name precedes the "(" that the caller consumed.
        name_token = self._tokens[self._index - 2] if self._index >= 2 else None
        unit_token = self._curr
        if unit_token.token_type in (TokenType.R_PAREN, TokenType.COMMA):
            self.raise_error(f"Expecting a time unit in {name}")
        self._advance()
        unit = _PLURAL_UNITS.get(unit_token.text.upper(), unit_token.text.upper())
        args: list[exp.Expr] = [exp.var(unit)]
        while self._match(TokenType.COMMA):
            arg = self._parse_assignment()
            if arg is not None:
                args.append(arg)
        node = exp.Anonymous(this=name, expressions=args)
        if name_token is not None:
            self._add_meta(node, name_token)
        return node

    def _parse_listagg(self) -> exp.Expr:
        distinct = self._match(TokenType.DISTINCT)
        args = self._parse_csv(self._parse_assignment)
        call = exp.Anonymous(this="LISTAGG", expressions=args)
        if distinct:
            return exp.Anonymous(
                this="LISTAGG",
                expressions=[exp.Distinct(expressions=args[:1]), *args[1:]],
            )
        return call

    def _parse_interval_span(
        self, this: exp.Expr, parse_function_unit: bool = True
    ) -> exp.Interval:
        if self._curr and self._curr.text.upper() in _PLURAL_UNITS:
            self._curr.text = _PLURAL_UNITS[self._curr.text.upper()]
        return super()._parse_interval_span(this, parse_function_unit=parse_function_unit)

    def _parse_match_recognize(self) -> exp.MatchRecognize | None:
        """MATCH_RECOGNIZE with Flink's WITHIN and the standard's SUBSET clause.

        sqlglot's own parser keeps PATTERN as raw text; this version does the
        same and additionally records SUBSET definitions and the WITHIN interval.
        """
        if not self._match(TokenType.MATCH_RECOGNIZE):
            return None
        start_token = self._prev
        self._match_l_paren()
        partition = self._parse_partition_by()
        order = self._parse_order()
        measures = (
            self._parse_csv(self._parse_match_recognize_measure)
            if self._match_text_seq("MEASURES")
            else None
        )
        rows = self._parse_rows_per_match()
        after = self._parse_after_match()
        pattern = self._parse_pattern_text()
        within = None
        emit_timeouts = False
        if self._match_text_seq("WITHIN"):
            within = self.expression(
                MatchWithin(this=self._parse_interval() or self._parse_primary())
            )
        emit_timeouts = self._match_text_seq("EMIT", "TIMEOUTS")
        subsets: list[exp.Expr] = []
        if self._match_text_seq("SUBSET"):
            subsets = self._parse_csv(self._parse_subset)
        define = None
        if self._match_text_seq("DEFINE"):
            self._match_expression_depth += 1
            try:
                define = self._parse_csv(self._parse_name_as_expression)
            finally:
                self._match_expression_depth -= 1
        self._match_r_paren()
        node = exp.MatchRecognize(
            partition_by=partition,
            order=order,
            measures=measures,
            rows=rows,
            after=after,
            pattern=pattern,
            define=define,
            alias=self._parse_table_alias(),
        )
        node.set("within", within)
        node.set("emit_timeouts", emit_timeouts)
        node.set("subsets", subsets)
        self._add_meta(node, start_token)
        return node

    #: Above zero while parsing MEASURES or DEFINE, where RUNNING and FINAL are keywords.
    _match_expression_depth = 0

    def _parse_match_recognize_measure(self) -> exp.MatchRecognizeMeasure:
        self._match_expression_depth += 1
        try:
            start = self._curr
            measure = self._parse_expression()
        finally:
            self._match_expression_depth -= 1
        written_as = self._tokens[self._index - 2].text.upper() if self._index >= 2 else ""
        if (
            isinstance(measure, exp.Alias)
            and measure.alias.upper() in _CLAUSE_WORDS
            and written_as != "AS"
        ):
            # "MEASURES x PATTERN (...)": the next clause's keyword was read as the name.
            self.raise_error(
                f"the measure {measure.this.sql(dialect='flink')} needs a name: "
                "write it as ... AS name",
                start,
            )
        return self.expression(exp.MatchRecognizeMeasure(this=measure))

    def _parse_csv(
        self, parse_method: t.Callable[[], T | None], sep: TokenType = TokenType.COMMA
    ) -> list[T]:
        """Read a separated list, rejecting an empty item (``a,, b`` or ``a, FROM``).

        sqlglot's own list parsing skips empty items, which Flink rejects.
        """
        parse_result = parse_method()
        items = [parse_result] if parse_result is not None else []
        while self._match(sep):
            separator = self._prev
            if isinstance(parse_result, exp.Expr):
                self._add_comments(parse_result)
            parse_result = parse_method()
            if parse_result is None:
                self.raise_error(f"expected an item after '{separator.text}'", separator)
                continue
            items.append(parse_result)
        return items

    def _parse_unary(self) -> exp.Expr | None:
        """Read ``RUNNING f(...)`` and ``FINAL f(...)`` inside MEASURES and DEFINE."""
        if (
            self._match_expression_depth
            and self._curr is not None
            and self._curr.text.upper() in ("RUNNING", "FINAL")
            and self._index + 2 < len(self._tokens)
            and self._tokens[self._index + 2].token_type == TokenType.L_PAREN
        ):
            kind = self._curr.text.upper()
            start = self._curr
            self._advance()
            inner = self._parse_unary()
            node = self.expression(MatchSemantics(this=inner, kind=kind))
            self._add_meta(node, start)
            return node
        return super()._parse_unary()

    def _parse_rows_per_match(self) -> exp.Expr | None:
        if self._match_text_seq("ONE", "ROW", "PER", "MATCH"):
            return exp.var("ONE ROW PER MATCH")
        if not self._match_text_seq("ALL", "ROWS", "PER", "MATCH"):
            return None
        text = "ALL ROWS PER MATCH"
        for words in (
            ("SHOW", "EMPTY", "MATCHES"),
            ("OMIT", "EMPTY", "MATCHES"),
            ("WITH", "UNMATCHED", "ROWS"),
        ):
            if self._match_text_seq(*words):
                text += " " + " ".join(words)
                break
        return exp.var(text)

    def _parse_after_match(self) -> exp.Expr | None:
        if not self._match_text_seq("AFTER", "MATCH", "SKIP"):
            return None
        text = "AFTER MATCH SKIP"
        if self._match_text_seq("PAST", "LAST", "ROW"):
            return exp.var(text + " PAST LAST ROW")
        if self._match_text_seq("TO", "NEXT", "ROW"):
            return exp.var(text + " TO NEXT ROW")
        if self._match_text_seq("TO", "FIRST") or self._match_text_seq("TO", "LAST"):
            direction = self._prev.text.upper()
        elif self._match_text_seq("TO"):
            direction = "LAST"
        else:
            self.raise_error(
                "Expecting PAST LAST ROW, TO NEXT ROW, TO FIRST v, TO LAST v or TO v after AFTER MATCH SKIP"
            )
            return None
        variable = self._advance_any()
        if not variable:
            self.raise_error(f"Expecting a pattern variable after AFTER MATCH SKIP TO {direction}")
            return None
        node = exp.var(f"{text} TO {direction} {self._prev.text}")
        self._add_meta(node, self._prev)
        return node

    def _parse_pattern_text(self) -> exp.Expr | None:
        if not self._match_text_seq("PATTERN"):
            return None
        self._match_l_paren()
        if not self._curr:
            self.raise_error("Expecting )", self._curr)
        depth = 1
        start = self._curr
        end = self._prev
        while self._curr and depth > 0:
            if self._curr.token_type == TokenType.L_PAREN:
                depth += 1
            elif self._curr.token_type == TokenType.R_PAREN:
                depth -= 1
            if depth > 0:
                end = self._curr
            self._advance()
        if depth > 0:
            self.raise_error("Expecting ) to close PATTERN", self._curr)
        text = (
            self._find_sql(start, end)
            if end is not start or start.token_type != TokenType.R_PAREN
            else ""
        )
        node = exp.var(text)
        node.meta.update(
            {"line": start.line, "col": start.col, "start": start.start, "end": end.end}
        )
        return node

    def _parse_subset(self) -> exp.Expr:
        name = self._parse_id_var()
        self._match(TokenType.EQ)
        self._match_l_paren()
        members = self._parse_csv(self._parse_id_var)
        self._match_r_paren()
        return self.expression(MatchSubset(this=name, expressions=members))


class FlinkGenerator(generator.Generator):
    """Writes trees back as SQL text (for messages and EXPLAIN)."""

    TRANSFORMS: t.ClassVar = {
        **generator.Generator.TRANSFORMS,
        MatchSemantics: lambda self, node: f"{node.args['kind']} {self.sql(node, 'this')}",
    }


class Flink(Dialect):
    """Flink SQL as the workbench reads it."""

    NORMALIZE_FUNCTIONS = "upper"
    # Flink identifiers keep their case; the catalog matches them exactly first,
    # then case-insensitively.
    NORMALIZATION_STRATEGY = Dialect.NORMALIZATION_STRATEGY.CASE_SENSITIVE
    INDEX_OFFSET = 0  # keep the user's 1-based array index untouched in the tree
    STRICT_STRING_CONCAT = True
    NULL_ORDERING = "nulls_are_small"

    Tokenizer = FlinkTokenizer
    Parser = FlinkParser
    Generator = FlinkGenerator
