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
them disagree, or is caught, and that shape is run as built every time. (What a build reads
without a query, from a cache or rows already in memory, is not caught: builds read nothing.)
Values of other kinds (a bool, a text) are refused with TypeError rather than compiled in.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler

_M = TypeVar("_M", bound=models.Model)

Value = int | datetime | list[int] | None

# At most this many shapes per query and thread.
MAX_SHAPES = 200

# Two sets of stand-ins no row's id or date is, unlike any constant a query uses, and unlike
# each other in every part (sign and size of the ids; year, month, day, weekday, hour, minute,
# second and microsecond of the times), so a build that rounds, truncates or branches on a
# value gives two different answers and is refused.
_STAND_INS = (
    (-7_300_001, datetime(1901, 2, 3, 4, 5, 6, 100, tzinfo=UTC)),
    (1_913_000_007, datetime(2187, 9, 28, 19, 51, 37, 500_000, tzinfo=UTC)),
)


# Every CompiledQuery made, for forget_all().
_EVERY: weakref.WeakSet[CompiledQuery[Any]] = weakref.WeakSet()


def forget_all() -> None:
    """Drop every CompiledQuery's compiled SQL. The SQL is built from the code as it stands
    when first run; a test that changes that code (monkeypatching the definition a query is
    built from, as Submission.marking_order) must not meet SQL compiled before it, nor leave
    its own to later tests: tests/conftest.py calls this before each test."""
    for query in list(_EVERY):
        query.forget()


@dataclass
class _Compiled:
    compiler: SQLCompiler | None  # None: run the queryset as built
    sql: str = ""
    params: tuple[object, ...] = ()
    slots: tuple[tuple[str, int] | None, ...] = ()  # a parameter's value and index in a list
    names: tuple[str, ...] = ()  # a values() queryset's keys
    converters: dict[int, Any] | None = None  # the compiler's, found once (results_iter finds them each run)


def _check(values: dict[str, Value]) -> None:
    """Only the values a stand-in can take the place of: any other (a bool, a text, a date)
    would reach the build unchanged and be compiled into the SQL for every later call."""
    for name, value in values.items():
        if value is None or isinstance(value, datetime):
            continue
        if isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            continue
        raise TypeError(f"CompiledQuery value {name}={value!r}: only ids, lists of ids, datetimes and None")


def _stand_ins(values: dict[str, Value], which: int) -> tuple[dict[str, Value], dict[object, tuple[str, int]]]:
    """Stand-ins for `values` from set `which`, and which value (and list index) each is."""
    base_id, base_when = _STAND_INS[which]
    step = 1 if base_id > 0 else -1
    built: dict[str, Value] = {}
    where: dict[object, tuple[str, int]] = {}
    counter = 0
    for name, value in values.items():
        if isinstance(value, list):
            stand_in: Value = [base_id + step * (counter := counter + 1) for _ in value]
            assert isinstance(stand_in, list)
            where.update({(int, s): (name, index) for index, s in enumerate(stand_in)})
        elif isinstance(value, datetime):
            stand_in = base_when + timedelta(microseconds=(counter := counter + 1))
            where[(datetime, stand_in)] = (name, -1)
        elif isinstance(value, int):
            stand_in = base_id + step * (counter := counter + 1)
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
    values given: `.objects()` for a queryset of model instances (with what select_related()
    and annotate() add to them, as iterating the queryset gives them; a build may not use
    prefetch_related(), which runs queries of its own), `.rows()` for a values() queryset
    (dicts)."""

    def __init__(self, build: Callable[..., models.QuerySet[_M, Any]], prepare: bool = True) -> None:
        """`prepare=False`: PostgreSQL plans the query afresh on every run rather than keeping
        a prepared statement (crisis/settings.py, DB_PREPARED_STATEMENTS), for a large report
        whose best plan depends on its values more than planning it costs."""
        self.build = build
        self.prepare = prepare
        self._local = threading.local()
        _EVERY.add(self)

    def forget(self) -> None:
        """Drop the SQL compiled so far, in every thread: the next run builds afresh."""
        self._local = threading.local()

    def _compiled(self, values: dict[str, Value]) -> _Compiled:
        _check(values)
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
        first, second = self._build(values, 0), self._build(values, 1)
        if first is None or second is None:
            return _Compiled(None)
        (queryset, compiler, sql, params, slots), (_, _, sql_2, params_2, slots_2) = first, second
        if queryset._prefetch_related_lookups:
            raise TypeError("A compiled query runs one statement: prefetch_related() is done by the caller.")
        if sql != sql_2 or slots != slots_2:
            return _Compiled(None)  # the values change the SQL's shape beyond None and length
        if any(slot is None and a != b for a, b, slot in zip(params, params_2, slots, strict=True)):
            return _Compiled(None)  # a parameter comes from a value changed, or from the clock
        query = queryset.query
        # As ValuesIterable names a row's columns.
        names = tuple(query.selected or (*query.extra_select, *query.values_select, *query.annotation_select))
        # As results_iter() finds them, for the columns a row has.
        columns = [column[0] for column in compiler.select[: compiler.col_count]]
        if compiler.has_composite_fields(columns):
            return _Compiled(None)  # rows results_iter() would regroup: run as built
        converters = compiler.get_converters(columns)
        return _Compiled(compiler, sql, tuple(params), slots, names, converters)

    def _build(self, values: dict[str, Value], which: int) -> tuple[Any, SQLCompiler, str, list, tuple] | None:
        """The build with stand-in set `which`: its queryset, compiler, SQL, parameters and
        each parameter's slot; None if the values cannot all be bound."""
        built, where = _stand_ins(values, which)
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

    def _fetch(self, compiled: _Compiled, values: dict[str, Value]) -> Iterable[Sequence[Any]]:
        """The rows of the compiled SQL run with `values`, converted as the ORM converts them."""
        compiler = compiled.compiler
        assert compiler is not None
        with connections[compiler.using or DEFAULT_DB_ALIAS].cursor() as cursor:
            driver = cursor.db.connection
            threshold = getattr(driver, "prepare_threshold", None)  # psycopg's: None for never
            if not self.prepare and threshold is not None:
                driver.prepare_threshold = None
            try:
                cursor.execute(compiled.sql, self._bind(compiled, values))
            finally:
                if not self.prepare and threshold is not None:
                    driver.prepare_threshold = threshold
            fetched = cursor.fetchall()
        if compiled.converters:
            return compiler.apply_converters(fetched, compiled.converters)
        return fetched

    def objects(self, **values: Value) -> list[_M]:
        compiled = self._compiled(values)
        if compiled.compiler is None:
            return list(self.build(**values))
        compiler = compiled.compiler
        db = compiler.using or DEFAULT_DB_ALIAS
        # As Django's ModelIterable makes instances from a row: the model's columns, then each
        # select_related() object's, then the annotations. (The build gets ids, not objects,
        # so its queryset knows no related objects to attach.)
        select, klass_info, annotations = compiler.select, compiler.klass_info, compiler.annotation_col_map
        assert klass_info is not None
        model = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        init_list = [column[0].target.attname for column in select[start:end]]
        populators = get_related_populators(klass_info, select, db)  # type: ignore[call-arg]  # stubs: Django 6's
        found: list[_M] = []
        for row in self._fetch(compiled, values):
            obj = model.from_db(db, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in (annotations or {}).items():
                setattr(obj, name, row[position])
            found.append(obj)
        return found

    def rows(self, **values: Value) -> list[dict[str, Any]]:
        compiled = self._compiled(values)
        if compiled.compiler is None:
            return list(self.build(**values))
        names = compiled.names
        return [dict(zip(names, row, strict=False)) for row in self._fetch(compiled, values)]
