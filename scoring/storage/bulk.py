"""Writing hundreds of thousands of rows inside the caller's transaction, through the driver.

An import of 400,000 scores through SQLAlchemy's ``executemany`` spends most of its time in
SQLAlchemy's handling of each row's parameters, not in the database. Here the rows go to the
driver connection under the session's own transaction: on PostgreSQL with ``COPY ... FROM
STDIN`` (psycopg 3), on SQLite with the ``sqlite3`` cursor's ``executemany``. Each column's
values still go through its SQLAlchemy type (a time becomes what SQLAlchemy would store, a
JSON value its text), so a row written here reads back as one written by the ORM.

An update by id is one ``UPDATE ... WHERE id = ?`` per row on SQLite; on PostgreSQL the new
values are copied into a temporary table and joined in one ``UPDATE ... FROM``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError

Row = Sequence[Any]


def _processors(
    connection: Connection, table: Table, columns: Sequence[str]
) -> list[tuple[int, Callable[[Any], Any]]]:
    """(position, SQLAlchemy bind processor) for each column whose type converts values."""
    dialect = connection.dialect
    found = []
    for position, name in enumerate(columns):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            found.append((position, process))
    return found


def _converted(process: Callable[[Any], Any], values: tuple[Any, ...]) -> list[Any]:
    """``process`` applied to a column's values, once per distinct value where they can be
    keys: a bulk write repeats one time and a few dozen points hundreds of thousands of
    times. A column of JSON dicts is converted value by value."""
    try:
        distinct = {value: process(value) for value in set(values)}
    except TypeError:
        return [process(value) for value in values]
    return [distinct[value] for value in values]


def _driver_values(
    connection: Connection, table: Table, columns: Sequence[str], rows: list[Row]
) -> list[Row]:
    """The rows with each value as SQLAlchemy would hand it to the driver."""
    processors = _processors(connection, table, columns)
    if not processors:
        return rows
    by_column: list[Any] = list(zip(*rows, strict=True))
    for position, process in processors:
        by_column[position] = _converted(process, by_column[position])
    return list(zip(*by_column, strict=True))


def _driver(connection: Connection) -> Any:
    """The DBAPI connection under ``connection``, in the transaction already begun on it."""
    return connection.connection.driver_connection


@contextmanager
def _as_sqlalchemy_errors(connection: Connection, statement: str) -> Iterator[None]:
    """The driver's errors raised as SQLAlchemy's, as if SQLAlchemy had run the statement:
    ``Database.write`` retries a serialization failure it recognises as a ``DBAPIError``."""
    driver_error = connection.dialect.loaded_dbapi.Error
    try:
        yield
    except driver_error as error:
        raise DBAPIError.instance(statement, None, error, driver_error) from error


def _copy(connection: Connection, table: str, columns: Sequence[str], rows: list[Row]) -> None:
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with (
        _as_sqlalchemy_errors(connection, statement),
        _driver(connection).cursor() as cursor,
        cursor.copy(statement) as copy,
    ):
        for row in rows:
            copy.write_row(row)


def insert_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: list[Row]
) -> None:
    """Insert ``rows`` (values in the order of ``columns``) in the connection's transaction."""
    if not rows:
        return
    values = _driver_values(connection, table, columns, rows)
    if connection.dialect.name == "postgresql":
        _copy(connection, table.name, columns, values)
        return
    marks = ", ".join("?" for _ in columns)
    statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
    with _as_sqlalchemy_errors(connection, statement):
        _driver(connection).executemany(statement, values)


def update_by_id(
    connection: Connection, table: Table, columns: Sequence[str], rows: list[Row]
) -> None:
    """Set ``columns`` on each row whose id is the row's first value; the rest follow in order."""
    if not rows:
        return
    values = _driver_values(connection, table, ["id", *columns], rows)
    if connection.dialect.name == "postgresql":
        scratch = f"bulk_{table.name}"
        wanted = ", ".join(["id", *columns])
        _run(
            connection,
            f"CREATE TEMPORARY TABLE {scratch} ON COMMIT DROP AS "
            f"SELECT {wanted} FROM {table.name} WITH NO DATA",
        )
        _copy(connection, scratch, ["id", *columns], values)
        assignments = ", ".join(f"{name} = {scratch}.{name}" for name in columns)
        _run(
            connection,
            f"UPDATE {table.name} SET {assignments} FROM {scratch} "
            f"WHERE {table.name}.id = {scratch}.id",
        )
        _run(connection, f"DROP TABLE {scratch}")
        return
    assignments = ", ".join(f"{name} = ?" for name in columns)
    statement = f"UPDATE {table.name} SET {assignments} WHERE id = ?"
    with _as_sqlalchemy_errors(connection, statement):
        _driver(connection).executemany(statement, [(*row[1:], row[0]) for row in values])


def _run(connection: Connection, statement: str) -> None:
    with _as_sqlalchemy_errors(connection, statement):
        _driver(connection).execute(statement)
