"""Querysets compiled to SQL once a process, for the hot pages whose queries keep one shape.

Building a queryset with nested Exists() and compiling it to SQL costs the ORM a millisecond
or two on every request; PostgreSQL answers the query itself in a fraction of that. A
`CompiledQuery` keeps the ORM definition as the one home of the rule: it builds the queryset
once with stand-in values, keeps its SQL, and binds the real values on each run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import models

_M = TypeVar("_M", bound=models.Model)

# Stand-ins for the values a query is built with: ids no row has, unlike any constant a query uses.
_STAND_IN = -7_300_001


class CompiledQuery(Generic[_M]):
    """`build(**values)` (integer or None values) compiled once for each pattern of None
    values, then run with the values given. Only for querysets of one model without
    select_related (rows come back through Manager.raw)."""

    def __init__(self, build: Callable[..., models.QuerySet[_M]]) -> None:
        self.build = build
        self._compiled: dict[tuple[str, ...], tuple[type[_M], str, tuple[object, ...], tuple[str | None, ...]]] = {}

    def _compile(
        self, names: tuple[str, ...], values: dict[str, int | None]
    ) -> tuple[type[_M], str, tuple[object, ...], tuple[str | None, ...]]:
        stand_ins = {name: _STAND_IN - index for index, name in enumerate(names)}
        queryset = self.build(**{name: None if values[name] is None else stand_ins[name] for name in names})
        sql, params = queryset.query.sql_with_params()
        used = {name for name, stand_in in stand_ins.items() if any(_is(p, stand_in) for p in params)}
        missing = {name for name in names if values[name] is not None} - used
        if missing:
            raise ValueError(f"{self.build.__name__}: {sorted(missing)} did not reach the SQL as parameters")
        by_stand_in = {stand_in: name for name, stand_in in stand_ins.items()}
        slots = tuple(by_stand_in.get(p) if _is_int(p) else None for p in params)
        return queryset.model, sql, tuple(params), slots

    def run(self, **values: int | None) -> list[_M]:
        names = tuple(sorted(values))
        key = tuple(name for name in names if values[name] is None)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(names, values)
        model, sql, params, slots = compiled
        bound = [param if slot is None else values[slot] for param, slot in zip(params, slots, strict=True)]
        return list(model._default_manager.raw(sql, bound))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is(value: object, stand_in: int) -> bool:
    return _is_int(value) and value == stand_in
