"""Querysets compiled to SQL once, for the hot pages whose queries keep one shape.

Building a queryset of grouped CASE expressions or nested Exists() and compiling it to SQL
costs the ORM milliseconds on every request, often more than PostgreSQL takes to answer it.
A `CompiledQuery` keeps the ORM definition as the one home of the rule: it builds the
queryset with stand-in values, keeps the SQL, and binds the real values on each run.

The values may be ids (int or None), lists of ids, and datetimes. A pattern of values that
changes the SQL's shape (None, a list's length) is compiled on its own. Where a value does
not reach the SQL as a parameter of its own (a backend that adapts it first, an empty list),
the queryset is simply run as built: slower, never different.

A build must make its SQL from its values and constants alone. Each shape is therefore built
twice, with two sets of stand-ins, and kept only if the two agree everywhere but in the
stand-ins' places: a value that reaches the SQL changed (`now - a week`), a time read inside
the build (`timezone.now()`), or a query run while building (rows frozen into the SQL) makes
them disagree, or is caught, and that shape is run as built every time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar, cast

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.sql.compiler import SQLCompiler

_M = TypeVar("_M", bound=models.Model)

Value = int | datetime | list[int] | None

# Shapes kept a thread for one query, at most.
MAX_SHAPES = 200

# Stand-ins no row's id or date is, and unlike any constant a query uses.
_ID = -7_300_001
_WHEN = datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC)
_SECOND = 500  # the second set of stand-ins starts here


@dataclass
class _Compiled:
    compiler: SQLCompiler | None  # None: run the queryset as built
    sql: str = ""
    params: tuple[object, ...] = ()
    slots: tuple[tuple[str, int] | None, ...] = ()  # a parameter's value and index in a list
    names: tuple[str, ...] = ()  # a values() queryset's keys


def _stand_ins(values: dict[str, Value], start: int = 0) -> tuple[dict[str, Value], dict[object, tuple[str, int]]]:
    """Stand-ins for `values`, numbered from `start`, and which value (and list index) each is."""
    built: dict[str, Value] = {}
    where: dict[object, tuple[str, int]] = {}
    counter = start
    for name, value in values.items():
        if isinstance(value, list):
            stand_in: Value = [_ID - (counter := counter + 1) for _ in value]
            assert isinstance(stand_in, list)
            where.update({(int, s): (name, index) for index, s in enumerate(stand_in)})
        elif isinstance(value, datetime):
            stand_in = _WHEN + timedelta(microseconds=(counter := counter + 1))
            where[(datetime, stand_in)] = (name, -1)
        elif isinstance(value, int) and not isinstance(value, bool):
            stand_in = _ID - (counter := counter + 1) * 1000
            where[(int, stand_in)] = (name, -1)
        else:
            stand_in = value
        built[name] = stand_in
    return built, where


def _key(param: object) -> object:
    if isinstance(param, datetime):
        return (datetime, param)
    if isinstance(param, int) and not isinstance(param, bool):
        return (int, int(param))
    return None


class CompiledQuery(Generic[_M]):
    """`build(**values)` compiled once a thread for each shape of values, then run with the
    values given: `.objects()` for a queryset of one model (no select_related), `.rows()` for
    a values() queryset (dicts)."""

    def __init__(self, build: Callable[..., models.QuerySet[_M, Any]]) -> None:
        self.build = build
        self._local = threading.local()

    def _compiled(self, values: dict[str, Value]) -> _Compiled:
        shape = tuple(
            (name, len(value) if isinstance(value, list) else value is None) for name, value in sorted(values.items())
        )
        cache: dict[object, _Compiled] = self._local.__dict__.setdefault("cache", {})
        compiled = cache.get(shape)
        if compiled is None:
            if len(cache) >= MAX_SHAPES:  # lists of many lengths: start again rather than grow
                cache.clear()
            compiled = cache[shape] = self._compile(values)
        return compiled

    def _compile(self, values: dict[str, Value]) -> _Compiled:
        first, second = self._build(values, 0), self._build(values, _SECOND)
        if first is None or second is None:
            return _Compiled(None)
        (queryset, compiler, sql, params, slots), (_, _, sql_2, params_2, slots_2) = first, second
        if sql != sql_2 or slots != slots_2:
            return _Compiled(None)  # the values change the SQL's shape beyond None and length
        if any(slot is None and a != b for a, b, slot in zip(params, params_2, slots, strict=True)):
            return _Compiled(None)  # a parameter comes from a value changed, or from the clock
        query = queryset.query
        # As ValuesIterable names a row's columns.
        names = tuple(query.selected or (*query.extra_select, *query.values_select, *query.annotation_select))
        return _Compiled(compiler, sql, tuple(params), slots, names)

    def _build(self, values: dict[str, Value], start: int) -> tuple[Any, SQLCompiler, str, list, tuple] | None:
        """The build with stand-ins numbered from `start`: its queryset, compiler, SQL,
        parameters and each parameter's slot; None if the values cannot all be bound."""
        built, where = _stand_ins(values, start)
        queried: list[str] = []

        def no_queries(execute, sql, params, many, context):  # rows read now would be frozen in
            queried.append(sql)
            return execute(sql, params, many, context)

        with connections[DEFAULT_DB_ALIAS].execute_wrapper(no_queries):
            queryset = self.build(**built)
            compiler = queryset.query.get_compiler(using=queryset.db)
            try:
                sql, params = compiler.as_sql()
            except EmptyResultSet:
                return None
        if queried:
            return None
        slots = tuple(where.get(_key(param)) for param in params)
        if {slot for slot in slots if slot is not None} != set(where.values()):
            return None  # a value was adapted or left out: no safe binding
        return queryset, compiler, sql, list(params), slots

    def _bind(self, compiled: _Compiled, values: dict[str, Value]) -> list[Any]:
        bound: list[Any] = []
        for param, slot in zip(compiled.params, compiled.slots, strict=True):
            if slot is None:
                bound.append(param)
            else:
                name, index = slot
                value = values[name]
                bound.append(value[index] if isinstance(value, list) else value)
        return bound

    def objects(self, **values: Value) -> list[_M]:
        compiled = self._compiled(values)
        if compiled.compiler is None:
            return list(self.build(**values))
        model = compiled.compiler.query.model
        assert model is not None
        return list(cast("Iterable[_M]", model._default_manager.raw(compiled.sql, self._bind(compiled, values))))

    def rows(self, **values: Value) -> list[dict[str, Any]]:
        compiled = self._compiled(values)
        if compiled.compiler is None:
            return list(self.build(**values))
        compiler = compiled.compiler
        with connections[compiler.using or DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(compiled.sql, self._bind(compiled, values))
            fetched = cursor.fetchall()
        names = compiled.names
        return [dict(zip(names, row, strict=False)) for row in compiler.results_iter([fetched])]
