"""Row writing for the ingest hot path: multi-row INSERT ... RETURNING and
executemany UPDATE, built from the models' own field definitions.

Why not the ORM here: on a delivery of one alert, compiling ``bulk_create``
and ``bulk_update`` statements costs more CPU than the database spends
executing them (``bulk_update`` builds one CASE expression per row and
field), and ingestion must keep up with alert storms on small machines.
Everything else about the rows stays Django's: values go through each
field's ``pre_save`` (``auto_now``...) and ``get_db_prep_save`` (JSON, time
zones), errors are Django's (``IntegrityError``), and the SQL is plain
INSERT/UPDATE with ``RETURNING``, which PostgreSQL and SQLite (3.35+) both
speak. Where a backend cannot return inserted ids, ``bulk_create`` is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Model


def _fields(model: type[Model]) -> list[Any]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def insert(objs: Sequence[Model]) -> None:
    """INSERT unsaved ``objs`` (all of one model) and set their primary keys."""
    if not objs:
        return
    model = type(objs[0])
    if not connection.features.can_return_rows_from_bulk_insert:
        model._default_manager.bulk_create(list(objs))  # pragma: no cover - old SQLite
        return
    fields = _fields(model)
    q = connection.ops.quote_name
    pk = model._meta.pk
    columns = ", ".join(q(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    batch = max(1, connection.ops.bulk_batch_size(fields, objs))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch):
            chunk = objs[start : start + batch]
            params: list[Any] = []
            for obj in chunk:
                params += [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
            sql = (
                f"INSERT INTO {q(model._meta.db_table)} ({columns}) "  # noqa: S608
                f"VALUES {', '.join([row] * len(chunk))} RETURNING {q(pk.column)}"
            )
            cursor.execute(sql, params)
            for obj, (value,) in zip(chunk, cursor.fetchall(), strict=True):
                setattr(obj, pk.attname, value)
                obj._state.adding = False
                obj._state.db = connection.alias


def update(objs: Sequence[Model], names: Sequence[str]) -> None:
    """UPDATE the fields ``names`` of saved ``objs`` (one model), one
    parameterised statement executed for every row."""
    if not objs or not names:
        return
    model = type(objs[0])
    q = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    pk = model._meta.pk
    assignments = ", ".join(f"{q(f.column)} = %s" for f in fields)
    sql = f"UPDATE {q(model._meta.db_table)} SET {assignments} WHERE {q(pk.column)} = %s"  # noqa: S608
    rows = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
