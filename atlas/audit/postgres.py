"""The audit log in PostgreSQL: table ``atlas_audit.records``, created on first use.

The database refuses every change but an append: BEFORE UPDATE / DELETE (per row) and BEFORE
TRUNCATE (per statement) triggers raise, and a BEFORE INSERT trigger refuses any record but the
next in sequence (so ``INSERT … ON CONFLICT`` cannot overwrite one either). An append reads the
last hash and inserts the record chained on it inside one transaction holding an advisory lock,
so API workers on several hosts extend one chain; ``synchronous_commit`` is forced on for that
transaction, so ``append`` returns only once the record is durable. Appends that arrive together
share one transaction (group commit, ``group.py``): one WAL flush per batch, not per record.

The triggers stop the application and anyone using its role by mistake; a role that owns the
table can still drop them. In production, let another role own ``atlas_audit`` and grant the
application role only ``USAGE`` on the schema and ``SELECT, INSERT`` on the table; the hash chain
makes any edit evident either way.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from atlas.audit import unavailable_on
from atlas.audit.chain import COLUMNS, GENESIS, chain_hash, check_chain, checked, record_from, utc
from atlas.audit.group import GroupCommit
from atlas.audit.record import AuditRecord, ChainCheck
from atlas.errors import InvalidInput
from atlas.stores.postgis import create_pg_engine

SCHEMA = "atlas_audit"
_DRIVER_ERRORS = (sa.exc.SQLAlchemyError, psycopg.Error)
_PLAIN_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Function bodies are constant text: the schema comes from each function's search_path.
_REFUSE_CHANGE = """
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'the audit log is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END
"""
_APPEND_ONLY = """
BEGIN
    IF NEW.seq IS DISTINCT FROM (SELECT coalesce(max(seq), 0) + 1 FROM records) THEN
        RAISE EXCEPTION USING
            MESSAGE = 'the audit log is append-only: records are added at the end only',
            ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
"""


def records_table(metadata: sa.MetaData, schema: str) -> sa.Table:
    """One row per record; ``seq`` is gapless, 1 for the first record."""
    return sa.Table(
        "records",
        metadata,
        sa.Column("seq", pg.BIGINT, primary_key=True, autoincrement=False),
        sa.Column("at", pg.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("who", pg.TEXT, nullable=False),
        sa.Column("tier", pg.TEXT, nullable=False),
        sa.Column("action", pg.TEXT, nullable=False),
        sa.Column("collection_id", pg.TEXT, nullable=False),
        sa.Column(
            "feature_count", pg.BIGINT, sa.CheckConstraint("feature_count >= 0"), nullable=False
        ),
        sa.Column("area", pg.TEXT),
        sa.Column("request_id", pg.TEXT, nullable=False),
        sa.Column("detail", pg.TEXT, nullable=False),
        sa.Column("hash", pg.TEXT, nullable=False),
        sa.Index("records_at", "at", "seq"),
        schema=schema,
    )


def _ddl(schema: str) -> list[str]:
    """Functions and triggers, run once right after the table is created."""
    s = f'"{schema}"'
    return [
        f"CREATE FUNCTION {s}.refuse_change() RETURNS trigger LANGUAGE plpgsql"
        f" SET search_path = {s} AS $body${_REFUSE_CHANGE}$body$",
        f"CREATE FUNCTION {s}.append_only() RETURNS trigger LANGUAGE plpgsql"
        f" SET search_path = {s} AS $body${_APPEND_ONLY}$body$",
        f"CREATE TRIGGER records_no_change BEFORE UPDATE OR DELETE ON {s}.records"
        f" FOR EACH ROW EXECUTE FUNCTION {s}.refuse_change()",
        f"CREATE TRIGGER records_no_truncate BEFORE TRUNCATE ON {s}.records"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {s}.refuse_change()",
        f"CREATE TRIGGER records_append_only BEFORE INSERT ON {s}.records"
        f" FOR EACH ROW EXECUTE FUNCTION {s}.append_only()",
    ]


class PostgresAuditLog:
    """The AuditLog contract on PostgreSQL; one chain for every worker on every host."""

    kind = "postgres"

    def __init__(
        self,
        url: str,
        *,
        schema: str = SCHEMA,
        statement_timeout_ms: int = 30_000,
        pool_size: int = 2,
    ) -> None:
        if not _PLAIN_NAME.match(schema):
            raise InvalidInput(f"'{schema[:40]}' is not a valid schema name")
        self.schema = schema
        self._lock_key = f"atlas-audit:{schema}"
        self._engine = create_pg_engine(
            url, pool_size=pool_size, statement_timeout_ms=statement_timeout_ms, name="atlas-audit"
        )
        self._table = records_table(sa.MetaData(), schema)
        self._ready = False
        self._ready_lock = threading.Lock()
        self._group = GroupCommit(self._write_batch)

    def __repr__(self) -> str:
        return f"PostgresAuditLog(schema={self.schema!r})"  # never the URL: it holds the password

    def append(self, record: AuditRecord) -> None:
        """Insert one record chained on the last one; returns once it is committed durably.

        Concurrent appends of this process share one transaction (group commit, ``group.py``).
        """
        self._group.append(checked(record))

    def _write_batch(self, rows: Sequence[AuditRecord]) -> None:
        """Chain ``rows`` after the last record in one transaction: one WAL flush for all."""
        table = self._table
        with self._transaction("append") as conn:
            conn.execute(sa.text("SET LOCAL synchronous_commit = on"))
            # Every appender queues here, so the last hash cannot change before our insert.
            conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                {"k": self._lock_key},
            )
            last = conn.execute(
                sa.select(table.c.seq, table.c.hash).order_by(table.c.seq.desc()).limit(1)
            ).first()
            last_seq, previous = (last.seq, last.hash) if last else (0, GENESIS)
            values = []
            for seq, row in enumerate(rows, start=last_seq + 1):
                previous = chain_hash(previous, row)
                values.append(
                    {"seq": seq, **{n: getattr(row, n) for n in COLUMNS}, "hash": previous}
                )
            # One multi-row INSERT: the append-only trigger (VOLATILE) sees the rows inserted
            # before each one by the same statement, so each must be the next in sequence.
            conn.execute(table.insert().values(values))

    def since(self, start: dt.datetime) -> Iterator[AuditRecord]:
        """Every record at or after ``start``, oldest first (by time, then by sequence)."""
        table = self._table
        query = self._select().where(table.c.at >= utc(start)).order_by(table.c.at, table.c.seq)
        return (record for _, record in self._rows(query))

    def verify(self) -> ChainCheck:
        """Recompute the chain in sequence order; report the first broken record."""
        return check_chain(self._rows(self._select().order_by(self._table.c.seq)))

    def close(self) -> None:
        """Release every pooled connection."""
        self._engine.dispose()

    def _select(self) -> sa.Select:
        columns = [self._table.c[name] for name in ("seq", *COLUMNS, "hash")]
        return sa.select(*columns)

    def _rows(self, query: sa.Select) -> Iterator[tuple[int, AuditRecord]]:
        """Rows streamed through a server-side cursor: exports need not fit in memory."""
        self._ensure_ready()
        with unavailable_on("read", *_DRIVER_ERRORS), self._engine.connect() as conn:
            for seq, *values, digest in conn.execution_options(yield_per=1000).execute(query):
                yield seq, record_from(values, digest)

    @contextmanager
    def _transaction(self, action: str) -> Iterator[sa.Connection]:
        self._ensure_ready()
        with unavailable_on(action, *_DRIVER_ERRORS), self._engine.begin() as conn:
            yield conn

    def _ensure_ready(self) -> None:
        """Create the schema, table, functions and triggers once, in one transaction."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            with unavailable_on("initialise", *_DRIVER_ERRORS), self._engine.connect() as conn:
                if not self._exists(conn):
                    # Concurrent first uses (several workers) queue on a session lock; the check
                    # is repeated in a NEW transaction, whose start reads the catalog afresh and
                    # so sees the table another worker committed while we waited.
                    conn.execute(sa.text("SELECT pg_advisory_lock(hashtext('atlas-audit'))"))
                    conn.commit()
                    try:
                        if not self._exists(conn):
                            self._create(conn)
                    finally:
                        conn.rollback()
                        conn.execute(sa.text("SELECT pg_advisory_unlock(hashtext('atlas-audit'))"))
                        conn.commit()
            self._ready = True

    def _exists(self, conn: sa.Connection) -> bool:
        found = conn.execute(
            sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": f'"{self.schema}".records'}
        ).scalar()
        conn.commit()
        return bool(found)

    def _create(self, conn: sa.Connection) -> None:
        conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
        self._table.create(conn)
        for statement in _ddl(self.schema):
            conn.exec_driver_sql(statement)
        conn.commit()
