"""Flask extensions: created here once, bound to an app in create_app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so Alembic revisions can refer to them (and SQLite batch mode can rebuild).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base carrying the constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:
    # mypy cannot subclass an attribute (db.Model); it sees the declarative base db.Model extends.
    class Model(Base):
        __abstract__ = True
        # Every model maps one table (DeclarativeBase allows any FROM clause).
        __table__: ClassVar[sa.Table]

else:
    Model = db.Model

migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
babel = Babel()


# Below gunicorn's 30 s worker timeout, so a writer kept waiting still gets an answer.
SQLITE_BUSY_TIMEOUT_MS = 10_000
_READ_ONLY_PREFIXES = ("SELECT", "PRAGMA", "WITH", "EXPLAIN")


def configure_sqlite(engine: Engine) -> None:
    """Make SQLite safe for concurrent writers: WAL, foreign keys, a busy timeout, BEGIN IMMEDIATE.

    pysqlite's own transaction handling is turned off; reads run without holding a lock, and the
    first statement that writes opens the transaction with BEGIN IMMEDIATE, so a second writer
    waits on the busy timeout instead of failing with "database is locked" when it upgrades a
    stale read snapshot. Ledger updates are conditional (WHERE state = ...), so a read taken
    before the write lock never decides a write on its own, exactly as under PostgreSQL's
    READ COMMITTED.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(_connection: Any) -> None:
        # The transaction opens lazily, on the first write (see below).
        return None

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_immediate_before_first_write(
        connection: Any, cursor: Any, statement: str, *_args: Any
    ) -> None:
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection is None or dbapi_connection.in_transaction:
            return
        if statement.lstrip().upper().startswith(_READ_ONLY_PREFIXES):
            return
        dbapi_connection.execute("BEGIN IMMEDIATE")


def insert_ignoring_duplicates(table: sa.Table, values: dict[str, object]) -> bool:
    """Insert a row unless a unique key already holds it; True when it was new.

    ON CONFLICT DO NOTHING is race-safe on both databases; RETURNING, not rowcount, tells the
    outcome, because drivers disagree on the rowcount of a skipped conflict.
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(**values).on_conflict_do_nothing()
    first_key = next(iter(table.primary_key.columns))
    return db.session.execute(statement.returning(first_key)).first() is not None


def hold_row(column: Any, row_id: int) -> None:
    """Lock one row until commit by writing a column onto itself.

    On PostgreSQL that is the row lock SELECT ... FOR UPDATE would take; on SQLite it is the
    write that opens BEGIN IMMEDIATE. Reads that follow see every change committed before it,
    and none that would change the decision can commit until we do.
    """
    table = column.class_
    db.session.execute(
        sa.update(table)
        .where(table.id == row_id)
        .values({column.key: column})
        .execution_options(synchronize_session=False)
    )


def is_sqlite(engine: Engine) -> bool:
    """Tell SQLite apart, for the few places where the dialect matters."""
    return engine.dialect.name == "sqlite"
