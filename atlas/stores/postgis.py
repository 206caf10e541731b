"""The PostGIS store: what an agglomeration runs in production (SQLAlchemy 2, GeoAlchemy2, psycopg 3).

Layout: every version of a collection is a table ``<schema>_data."<collection>__v<N>"`` holding
``feature_id`` (the layer's id value), one typed column per layer field named exactly after it,
``geom`` in EPSG:2154 and ``geom_3857`` (computed at write time, for tiles), each with a GiST
index. The catalog ``<schema>.versions`` lists the versions; the view ``<schema>."<collection>"``
points to the current one. A new version is written, indexed, analysed and made current in ONE
transaction: PostgreSQL DDL is transactional, so a killed ingest rolls back entirely and readers
keep the previous version whole. A batch puts the versions of several collections (a network and
the plots and sites it serves) in that one transaction, switched together at its end. An advisory
lock per collection serialises concurrent ingests.
"""

from __future__ import annotations

import datetime as dt
import logging
import select
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql as pg

from atlas import cancel
from atlas.errors import (
    AtlasError,
    EmptyCollection,
    InvalidInput,
    RequestCancelled,
    StoreTimeout,
    StoreUnavailable,
    UnknownCollection,
    ValidationFailed,
)
from atlas.faults import checkpoint
from atlas.layers.base import FieldSpec, VectorLayer
from atlas.layers.conform import IngestReport
from atlas.layers.sanity import check_storable
from atlas.query.features import FeatureQuery, query_field_names
from atlas.query.fields import check_fields, field_map
from atlas.query.filters import Expression, expression_fields
from atlas.query.grids import DEFAULT_GRID, TileGrid, grids
from atlas.query.values import as_date, is_missing
from atlas.stores.base import (
    CollectionInfo,
    Feature,
    FeaturePage,
    MvtTile,
    VersionBatch,
    VersionInfo,
    batch_collections,
    page_count,
    selected_names,
    staged_collection,
)
from atlas.stores.frames import WKB_COLUMN, features_frame, frame_select
from atlas.stores.mvt import (
    SIZE_COLUMN,
    TILE_BOX_COLUMNS,
    MvtDialect,
    TileColumns,
    TileQuery,
    generalised_column,
    generalised_zooms,
    mvt_sql,
    tile_column_names,
    tile_columns,
)
from atlas.stores.notifications import PostgresNotifications, channel_name
from atlas.stores.sql import quote, version_table
from atlas.stores.where import Where, WhereBuilder, order_by, python_value
from atlas.types import STORAGE_EPSG, TileXYZ

log = logging.getLogger(__name__)

KEEP_VERSIONS = 3
WRITE_TIMEOUT_MS = 30 * 60 * 1000  # an ingest may index a big table; readers keep the short one
CONNECT_TIMEOUT_S = 5
_RESERVED = {"feature_id", "geom", "geom_3857"}
_UNAVAILABLE = "store unavailable, retry later"
# SQLSTATEs a client's filter value can cause: data exceptions (class 22, e.g. 22P02 'abc' for a
# number), no operator for these types (42883), datatype mismatch (42804).
_VALUE_ERRORS = ("22", "42883", "42804")
# Connection exceptions (08), operator intervention (57P: shutdown, restart), too many connections.
_DOWN_ERRORS = ("08", "57P", "53300")
_MVT = MvtDialect(
    envelope="ST_MakeEnvelope({xmin}, {ymin}, {xmax}, {ymax}, {srid})",
    bounds="{envelope}",
    date_text="({})::text",
    datetime_text="""to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')""",
    name=":name",
    bind=True,
    ordered_aggregate=False,
)


def engine_url(url: str) -> str:
    """The SQLAlchemy URL with the psycopg 3 driver, whichever PostgreSQL scheme was given."""
    for prefix in (
        "postgresql+psycopg2://",
        "postgresql+psycopg://",
        "postgresql://",
        "postgres://",
    ):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise InvalidInput("the database URL must start with postgresql://")


def create_pg_engine(
    url: str,
    *,
    pool_size: int,
    statement_timeout_ms: int,
    name: str,
    parallel_workers: int | None = None,
) -> sa.Engine:
    """A psycopg 3 engine: every statement under the timeout, dead connections replaced;
    ``parallel_workers``: PostgreSQL's ``max_parallel_workers_per_gather`` for its sessions
    (None: the server's setting).

    Shared by the store, the API keys and the audit log, so that all three behave alike when
    the server restarts: a pooled connection the server closed is replaced at checkout
    (:func:`_closed_by_server`), without the round trip ``pool_pre_ping`` costs every checkout.
    """
    options = f"-c statement_timeout={int(statement_timeout_ms)}"
    if parallel_workers is not None:
        options += f" -c max_parallel_workers_per_gather={int(parallel_workers)}"
    engine = sa.create_engine(
        engine_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        connect_args={
            "options": options,
            "connect_timeout": CONNECT_TIMEOUT_S,
            "application_name": name,
        },
    )
    sa.event.listen(engine, "checkout", _closed_by_server)
    return engine


def _closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection whose server side has gone; the pool then opens a new one.

    An idle connection receives nothing unless the server ends it (a restart, an idle timeout,
    ``pg_terminate_backend``: a FATAL message, then end of file), so a socket with bytes waiting
    is a dead connection: one ``select`` on the socket, no statement. A peer that vanished
    without a word is not seen here; its first statement fails with a 503 "retry later".
    """
    try:
        waiting, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError) as exc:  # closed already
        raise sa.exc.DisconnectionError("connection closed") from exc
    if waiting:
        raise sa.exc.DisconnectionError("the server closed this pooled connection")


def _sql_type(spec: FieldSpec) -> sa.types.TypeEngine:
    # Text in the "C" collation: byte order, as in the embedded store, so that both stores sort
    # alike and the primary key index serves ORDER BY feature_id.
    types: dict[str, sa.types.TypeEngine[Any]] = {
        "string": pg.TEXT(collation="C"),
        "number": pg.DOUBLE_PRECISION(),
        "integer": pg.BIGINT(),
        "boolean": pg.BOOLEAN(),
        "date": pg.DATE(),
        "datetime": pg.TIMESTAMP(timezone=True),
    }
    return types[spec.type]


def catalog_table(metadata: sa.MetaData, schema: str) -> sa.Table:
    """The versions catalog: one row per complete version, one of them current."""
    return sa.Table(
        "versions",
        metadata,
        sa.Column("collection_id", pg.TEXT, primary_key=True),
        sa.Column("version", pg.INTEGER, primary_key=True),
        sa.Column("table_name", pg.TEXT, nullable=False),
        sa.Column("created", pg.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("count", pg.BIGINT, nullable=False),
        sa.Column("bbox", pg.ARRAY(pg.DOUBLE_PRECISION, dimensions=1)),  # xmin, ymin, xmax, ymax
        sa.Column("report", pg.JSONB, nullable=False),
        sa.Column("schema", pg.JSONB, nullable=False),
        sa.Column("is_current", pg.BOOLEAN, nullable=False, server_default=sa.false()),
        sa.Index(
            "versions_one_current",
            "collection_id",
            unique=True,
            postgresql_where=sa.text("is_current"),
        ),
        schema=schema,
    )


def features_table(metadata: sa.MetaData, schema: str, name: str, layer: VectorLayer) -> sa.Table:
    """One version's table; indexes come after the load (building them once is faster)."""
    for spec in layer.fields:
        quote(spec.name)  # refuses anything but a plain name, even from a layer declaration
        if spec.name in _RESERVED or spec.name in tile_column_names(layer):
            raise InvalidInput(f"field name '{spec.name}' is reserved by the store")
    columns = [sa.Column("feature_id", pg.TEXT(collation="C"), nullable=False)]
    columns += [sa.Column(spec.name, _sql_type(spec)) for spec in layer.fields]
    # No geometry-type constraint: the SRID one is what matters; conform() enforces the type.
    columns += [
        sa.Column("geom", Geometry("GEOMETRY", srid=STORAGE_EPSG, spatial_index=False)),
        sa.Column("geom_3857", Geometry("GEOMETRY", srid=3857, spatial_index=False)),
        # What tiles need, computed at ingest (atlas.stores.mvt.tile_columns): no index of
        # their own, they are read for the rows geom_3857's index finds.
        sa.Column(SIZE_COLUMN, pg.DOUBLE_PRECISION),
        *(sa.Column(c, pg.DOUBLE_PRECISION) for c in TILE_BOX_COLUMNS),
        *(
            sa.Column(generalised_column(z), Geometry("GEOMETRY", srid=0, spatial_index=False))
            for z in generalised_zooms(layer)
        ),
    ]
    return sa.Table(name, metadata, *columns, schema=schema)


class PostgisStore:
    """The FeatureStore contract on PostgreSQL + PostGIS."""

    kind = "postgis"

    def __init__(
        self,
        url: str,
        *,
        schema: str = "atlas",
        statement_timeout_ms: int = 30_000,
        pool_size: int = 5,
        parallel_workers: int | None = 0,
        layers: Mapping[str, VectorLayer] | None = None,
    ) -> None:
        quote(schema)  # a plain identifier only
        self.url = url
        self.schema = schema
        self.data_schema = f"{schema}_data"
        self._layers = layers  # None: the layer catalog; tests pass their own layers
        # Serving many requests at once, a statement split over extra processes only takes the
        # cores the requests beside it wait for (StoreSettings.parallel_workers).
        self._engine = create_pg_engine(
            url,
            pool_size=pool_size,
            statement_timeout_ms=statement_timeout_ms,
            name="atlas",
            parallel_workers=parallel_workers,
        )
        # Reads in autocommit: one round trip per statement, no BEGIN and ROLLBACK around it.
        self._reader = self._engine.execution_options(isolation_level="AUTOCOMMIT")
        self._metadata = sa.MetaData()
        self._versions = catalog_table(self._metadata, schema)
        self._ready = False
        self._ready_lock = threading.Lock()
        self._lower = _LOWER_DEFAULT
        # The versions catalog in memory, labelled with the switches seen when it was read.
        self._channel = channel_name("atlas_versions", schema)
        self._watch: PostgresNotifications | None = None  # started on the first catalog read
        self._rows_cache: tuple[tuple[int, int], dict[str, sa.Row[Any]]] | None = None
        self._local_switches = 0
        # Version tables never change: which tile columns each holds is read once.
        self._tile_columns: dict[str, TileColumns] = {}

    def __repr__(self) -> str:
        return f"PostgisStore(schema={self.schema!r})"  # never the URL: it holds the password

    # -- reading -------------------------------------------------------------------------

    def collections(self) -> list[CollectionInfo]:
        """Every vector collection with a current version, in catalog order."""
        catalog = self._catalog()
        rows = self._served_rows()
        return [_collection_info(layer, rows[cid]) for cid, layer in catalog.items() if cid in rows]

    def collection(self, collection_id: str) -> CollectionInfo:
        """Metadata of the current version; EmptyCollection when never ingested."""
        layer = self._layer(collection_id)
        row = self._served_rows().get(collection_id)
        if row is None:
            raise EmptyCollection(collection_id)
        return _collection_info(layer, row)

    def query(self, collection_id: str, query: FeatureQuery) -> FeaturePage:
        """Features matching ``query``, one page, and the number matched."""
        layer, view, where = self._prepare(collection_id, query)
        params = _bound(where)
        names = selected_names(layer, query)
        select = ", ".join(["feature_id", *(quote(n) for n in names), "ST_AsBinary(geom) AS wkb"])
        page = {"limit": query.limit, "offset": query.offset}
        if _spatial(query) and not query.sortby:
            # Matches gathered once, counted and paged in one statement: the exact spatial test
            # ran twice otherwise, in the page and in its count (a 1 km box of 5,111 parcels:
            # 10.3 + 7.2 ms in two statements, 8.7 ms in one — the heaviest items requests).
            sql = (
                f"WITH hits AS MATERIALIZED (SELECT feature_id AS fid FROM {view}"  # noqa: S608
                f" WHERE {where.sql})"
                f" SELECT {select}, (SELECT count(*) FROM hits) AS matched__ FROM {view}"
                " WHERE feature_id IN"
                " (SELECT fid FROM hits ORDER BY fid LIMIT :limit OFFSET :offset)"
                " ORDER BY feature_id"
            )
            with self._reading(collection_id) as conn:
                rows = conn.execute(sa.text(sql), params | page).all()
                if not rows and query.offset:  # past the end: no row carries the count
                    matched = _matched(conn, view, where)
                else:
                    matched = rows[0][-1] if rows else 0
            return FeaturePage(
                features=[_feature(tuple(row)[:-1], names) for row in rows],
                number_matched=int(matched),
                limit=query.limit,
                offset=query.offset,
            )
        page_sql = f"SELECT {select} FROM {view} WHERE {where.sql} ORDER BY {order_by(query.sortby)} LIMIT :limit OFFSET :offset"  # noqa: S608
        with self._reading(collection_id) as conn:
            rows = conn.execute(sa.text(page_sql), params | page).all()
            if (known := page_count(query, len(rows))) is not None:
                matched = known
            else:
                matched = _matched(conn, view, where)
        return FeaturePage(
            features=[_feature(row, names) for row in rows],
            number_matched=int(matched),
            limit=query.limit,
            offset=query.offset,
        )

    def count(self, collection_id: str, query: FeatureQuery) -> int:
        """How many features match ``query`` (paging ignored)."""
        _, view, where = self._prepare(collection_id, query)
        with self._reading(collection_id) as conn:
            return _matched(conn, view, where)

    def frame(self, collection_id: str, query: FeatureQuery | None = None) -> gpd.GeoDataFrame:
        """Every matching feature as a GeoDataFrame in EPSG:2154 (one query, one fetch)."""
        query = query or FeatureQuery()
        layer, view, where = self._prepare(collection_id, query)
        names, sql = frame_select(view, layer, query, where, wkb="ST_AsBinary")
        with self._reading(collection_id) as conn:
            rows = conn.execute(sa.text(sql), _bound(where)).all()
        keys = [*names, WKB_COLUMN]
        values = list(zip(*rows, strict=True)) if rows else [() for _ in keys]
        return features_frame(field_map(layer.fields), names, dict(zip(keys, values, strict=True)))

    def tile(
        self,
        collection_id: str,
        tile: TileXYZ,
        *,
        properties: tuple[str, ...] = (),
        extent: int = 4096,
        filter: Expression | None = None,
        limit: int | None = None,
        grid: TileGrid | None = None,
    ) -> MvtTile:
        """An MVT (one layer named after the collection) for z/x/y of ``grid`` (WebMercatorQuad by
        default), ``filter`` applied, at most ``limit`` features (the largest); empty ``data``
        when nothing falls in the tile."""
        layer = self._layer(collection_id)
        check_fields(layer.fields, [*properties, *expression_fields(filter)])
        where = self._builder(layer).build_filter(filter)
        params = {"name": collection_id}
        with self._reading(collection_id) as conn:
            # ``&&`` on the grid's column uses its GiST index; a 64-unit buffer keeps strokes
            # seamless.
            sql, numbers = mvt_sql(
                TileQuery(
                    layer,
                    properties,
                    tile,
                    grid or grids()[DEFAULT_GRID],
                    self._view(collection_id),
                    where.sql,
                    _MVT,
                    extent,
                    limit,
                    self._stored_tile_columns(collection_id),
                )
            )
            data, kept, matched = conn.execute(sa.text(sql), params | numbers | _bound(where)).one()
        return MvtTile(bytes(data) if kept else b"", int(kept), int(matched))

    def versions(self, collection_id: str) -> list[VersionInfo]:
        """Every complete version, newest first."""
        self._layer(collection_id)
        table = self._versions
        stmt = (
            sa.select(table)
            .where(table.c.collection_id == collection_id)
            .order_by(table.c.version.desc())
        )
        with self._connection() as conn:
            return [_version_info(row) for row in conn.execute(stmt)]

    # -- writing -------------------------------------------------------------------------

    def write_version(
        self, layer: VectorLayer, frame: gpd.GeoDataFrame, *, report: IngestReport
    ) -> VersionInfo:
        """Write ``frame`` as a new version table and make it current, all in one transaction."""
        with self.batch(collections=(layer.collection_id,)) as batch:
            return batch.write(layer, frame, report=report)

    @contextmanager
    def batch(self, *, collections: Sequence[str]) -> Iterator[VersionBatch]:
        """One transaction: lock ``collections``, write their tables, switch them all, commit."""
        names = batch_collections(collections)
        self._ensure_ready()
        with _translated("write"):
            conn = self._engine.connect()
        try:
            with _translated("write"):
                conn.begin()
                conn.execute(sa.text(f"SET LOCAL statement_timeout = {WRITE_TIMEOUT_MS}"))
                for collection_id in names:
                    # Two ingests of one collection queue here instead of racing for versions.
                    key = f"atlas:{self.schema}:{collection_id}"
                    conn.execute(
                        sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                        {"k": key},
                    )
            staging = _Staging(self, conn, names)
            yield staging
            with _translated("write"):
                if staging.staged:
                    # Switches last: the views take no lock while the batch reads the store.
                    checkpoint("before-switch")
                    for values in staging.staged.values():
                        self._switch(conn, values["collection_id"], values["table_name"], values)
                        self._prune(conn, values["collection_id"])
                conn.commit()
        finally:
            conn.close()  # without the commit above, the whole batch rolls back
            self._local_switches += 1  # this process's own switch, seen before its NOTIFY is
        if staging.staged:
            checkpoint("after-switch")

    def _stage(
        self, conn: sa.Connection, layer: VectorLayer, frame: gpd.GeoDataFrame, report: IngestReport
    ) -> dict[str, Any]:
        """Write and index the next version table of ``layer``; its catalog row, not inserted yet."""
        rows = _copy_rows(layer, frame)
        bbox = [float(v) for v in frame.total_bounds] if len(frame) else None
        with _translated("write"):
            version = self._next_version(conn, layer.collection_id)
            name = version_table(layer.collection_id, version)
            table = features_table(sa.MetaData(), self.data_schema, name, layer)
            table.create(conn)
            _copy(conn, table, rows)
            self._index(conn, name)
        return {
            "collection_id": layer.collection_id,
            "version": version,
            "table_name": name,
            "created": dt.datetime.now(dt.UTC),
            "count": len(rows),
            "bbox": bbox,
            "report": report.as_dict() | {"version": version},
            "schema": _schema_document(layer),
        }

    @property
    def connections_in_use(self) -> int:
        """Pooled connections lent out right now (health checks; tests prove none leaks)."""
        pool = self._engine.pool
        return int(pool.checkedout()) if isinstance(pool, sa.pool.QueuePool) else 0

    def close(self) -> None:
        """Release every pooled connection and stop watching the catalog."""
        with self._ready_lock:
            watch, self._watch = self._watch, None
        if watch is not None:
            watch.close()
        self._engine.dispose()

    def drop_schema(self) -> None:
        """Drop this store's schemas and everything in them (tests give each run its own)."""
        with self._transaction() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {quote(self.schema)} CASCADE"))
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {quote(self.data_schema)} CASCADE"))
        self._ready = False
        self._rows_cache = None
        self._tile_columns.clear()  # table names come back in a new schema

    # -- internals: catalog --------------------------------------------------------------

    def _catalog(self) -> Mapping[str, VectorLayer]:
        if self._layers is not None:
            return self._layers
        from atlas.layers import vector_layers

        return vector_layers()

    def _layer(self, collection_id: str) -> VectorLayer:
        layer = self._catalog().get(collection_id)
        if layer is None:
            raise UnknownCollection(collection_id)
        return layer

    def _prepare(self, collection_id: str, query: FeatureQuery) -> tuple[VectorLayer, str, Where]:
        """The layer, the current view and the WHERE clause, fields checked first."""
        layer = self._layer(collection_id)
        check_fields(layer.fields, query_field_names(query))
        return layer, self._view(collection_id), self._builder(layer).build(query)

    def _builder(self, layer: VectorLayer) -> WhereBuilder:
        self._ensure_ready()  # knows which collation lower-cases Unicode (CQL2 CASEI)
        return WhereBuilder(
            placeholder=lambda i: f":p{i}",
            fields=layer.fields,
            srid=STORAGE_EPSG,
            lower=self._lower,
        )

    def _view(self, collection_id: str) -> str:
        return f"{quote(self.schema)}.{quote(collection_id)}"

    def _table_columns(self) -> sa.Label[Any]:
        """The column names of a version's table, read with the catalog (same statement)."""
        pg_attribute = sa.table(
            "pg_attribute",
            sa.column("attrelid"),
            sa.column("attname"),
            sa.column("attnum"),
            sa.column("attisdropped"),
        )
        table = sa.func.to_regclass(
            sa.func.format("%I.%I", sa.literal(self.data_schema), self._versions.c.table_name)
        )
        return (
            sa.select(sa.func.array_agg(sa.cast(pg_attribute.c.attname, pg.TEXT)))
            .where(
                pg_attribute.c.attrelid == table,
                pg_attribute.c.attnum > 0,
                sa.not_(pg_attribute.c.attisdropped),
            )
            .scalar_subquery()
            .label("table_columns")
        )

    def _stored_tile_columns(self, collection_id: str) -> TileColumns:
        """The tile columns of the collection's current table (none in tables written before
        them, which are then tiled the old way)."""
        row = self._served_rows().get(collection_id)
        if row is None:
            return TileColumns()  # no current version: the tile's query says so
        found = self._tile_columns.get(row.table_name)
        if found is None:
            found = self._tile_columns[row.table_name] = TileColumns.of(row.table_columns or ())
        return found

    def _served_rows(self) -> dict[str, sa.Row[Any]]:
        """The catalog row of each collection's current version, by collection: from memory while no version switched
        since they were read (the listener counts switches; while it is down, from the database)."""
        generation = self._generation()
        cached = self._rows_cache
        if generation is not None and cached is not None and cached[0] == generation:
            return cached[1]
        table = self._versions
        with self._connection() as conn:
            rows = {
                row.collection_id: row
                for row in conn.execute(
                    sa.select(table, self._table_columns()).where(table.c.is_current)
                )
            }
        if generation is not None:
            self._rows_cache = (generation, rows)
        return rows

    def _generation(self) -> tuple[int, int] | None:
        """Switches seen (NOTIFY from any process, and this process's own), or None when they
        cannot be seen now."""
        with self._ready_lock:
            if self._watch is None:
                self._watch = PostgresNotifications(
                    self.url, self._channel, what="collection version"
                )
        remote = self._watch.generation()
        return None if remote is None else (remote, self._local_switches)

    def _next_version(self, conn: sa.Connection, collection_id: str) -> int:
        table = self._versions
        stmt = sa.select(sa.func.coalesce(sa.func.max(table.c.version), 0)).where(
            table.c.collection_id == collection_id
        )
        return int(conn.execute(stmt).scalar_one()) + 1

    def _index(self, conn: sa.Connection, name: str) -> None:
        qualified = f"{quote(self.data_schema)}.{quote(name)}"
        # A duplicate id fails here and rolls the whole version back.
        conn.execute(sa.text(f"ALTER TABLE {qualified} ADD PRIMARY KEY (feature_id)"))
        for column in ("geom", "geom_3857"):
            index = quote(f"{name}_{column}")
            conn.execute(sa.text(f"CREATE INDEX {index} ON {qualified} USING gist ({column})"))
        conn.execute(sa.text(f"ANALYZE {qualified}"))

    def _switch(
        self, conn: sa.Connection, collection_id: str, name: str, values: dict[str, Any]
    ) -> None:
        """Flip ``is_current`` and point the view at the new table (same transaction)."""
        table = self._versions
        conn.execute(
            sa.update(table)
            .where(table.c.collection_id == collection_id, table.c.is_current)
            .values(is_current=False)
        )
        conn.execute(sa.insert(table).values(**values, is_current=True))
        # Delivered at commit to every process's listener (its catalog cache is then stale).
        conn.execute(sa.select(sa.func.pg_notify(self._channel, collection_id)))
        view = self._view(collection_id)
        # DROP + CREATE rather than CREATE OR REPLACE: a new version may change the columns.
        conn.execute(sa.text(f"DROP VIEW IF EXISTS {view}"))
        source = f"{quote(self.data_schema)}.{quote(name)}"
        conn.execute(sa.text(f"CREATE VIEW {view} AS SELECT * FROM {source}"))  # noqa: S608

    def _prune(self, conn: sa.Connection, collection_id: str) -> None:
        table = self._versions
        old = conn.execute(
            sa.select(table.c.version, table.c.table_name)
            .where(table.c.collection_id == collection_id)
            .order_by(table.c.version.desc())
            .offset(KEEP_VERSIONS)
        ).all()
        for version, name in old:
            quote(name)
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {quote(self.data_schema)}.{quote(name)}"))
            conn.execute(
                sa.delete(table).where(
                    table.c.collection_id == collection_id, table.c.version == version
                )
            )

    # -- internals: connections ----------------------------------------------------------

    def _ensure_ready(self) -> None:
        """Create the extension, schemas and catalog once, idempotently."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            with _translated("initialise"), self._engine.begin() as conn:
                present = conn.execute(
                    sa.text(
                        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis'),"
                        " to_regclass(:versions) IS NOT NULL"
                    ),
                    {"versions": f"{quote(self.schema)}.versions"},
                ).one()
                if not all(present):
                    # Concurrent first uses (API workers, an ingest) queue here.
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('atlas-init'))"))
                    _create_extension(conn)
                    for schema in (self.schema, self.data_schema):
                        conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}"))
                    self._metadata.create_all(conn, checkfirst=True)
                self._lower = _lower_sql(conn)
            self._ready = True

    @contextmanager
    def _connection(self) -> Iterator[sa.Connection]:
        self._ensure_ready()
        with _translated("read"), self._reader.connect() as conn, _interruptible(conn):
            yield conn

    @contextmanager
    def _reading(self, collection_id: str) -> Iterator[sa.Connection]:
        """A connection for a query on the collection's view; client values may be wrong."""
        self._ensure_ready()
        try:
            with (
                _translated("query", client_values=True),
                self._reader.connect() as conn,
                _interruptible(conn),
            ):
                yield conn
        except _NoView:
            raise EmptyCollection(collection_id) from None

    @contextmanager
    def _transaction(self) -> Iterator[sa.Connection]:
        self._ensure_ready()
        with _translated("write"), self._engine.begin() as conn:
            yield conn


class _Staging:
    """The versions one PostGIS batch wrote in its transaction, not current yet."""

    def __init__(
        self, store: PostgisStore, conn: sa.Connection, collections: Sequence[str]
    ) -> None:
        self._store = store
        self._conn = conn
        self._collections = tuple(collections)
        self.staged: dict[str, dict[str, Any]] = {}

    def write(
        self, layer: VectorLayer, frame: gpd.GeoDataFrame, *, report: IngestReport
    ) -> VersionInfo:
        """Write the next version table of the layer's collection (current at the switch)."""
        check_storable(frame, layer.collection_id)  # no NaN or infinity ever stored
        staged_collection(layer.collection_id, locked=self._collections, staged=self.staged)
        values = self._store._stage(self._conn, layer, frame, report)
        self.staged[layer.collection_id] = values
        return _version_info(values)


def _matched(conn: sa.Connection, view: str, where: Where) -> int:
    """How many rows of ``view`` match ``where``."""
    sql = f"SELECT count(*) FROM {view} WHERE {where.sql}"  # noqa: S608
    return int(conn.execute(sa.text(sql), _bound(where)).scalar_one())


def _bound(where: Where) -> dict[str, Any]:
    """The WHERE parameters by the names ``WhereBuilder`` gave them (``:p1``, ``:p2``…)."""
    return {f"p{i}": value for i, value in enumerate(where.params, start=1)}


# Text columns use the "C" collation, whose lower() only folds ASCII: CQL2 CASEI lower-cases
# with ICU's root collation when the server has ICU (Debian's and most builds do), and casts
# back to "C" so that comparisons keep the byte order the embedded store uses.
_LOWER_ICU = '(lower({} COLLATE "und-x-icu") COLLATE "C")'
_LOWER_DEFAULT = '(lower({} COLLATE "default") COLLATE "C")'


def _lower_sql(conn: sa.Connection) -> str:
    icu = conn.execute(
        sa.text("SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu')")
    ).scalar_one()
    return _LOWER_ICU if icu else _LOWER_DEFAULT


class _NoView(Exception):
    """The collection's view does not exist: it was never ingested."""


@contextmanager
def _translated(action: str, *, client_values: bool = False) -> Iterator[None]:
    """Driver errors become Atlas errors; their text goes to the log, never to the client."""
    try:
        yield
    except AtlasError:
        raise
    except (sa.exc.DBAPIError, psycopg.Error) as err:
        raise _translate(err, action, client_values) from err
    except sa.exc.TimeoutError as err:  # no pooled connection free in time
        log.warning("postgis %s: connection pool exhausted", action)
        raise StoreUnavailable(_UNAVAILABLE) from err


def _translate(err: Exception, action: str, client_values: bool) -> Exception:
    orig = getattr(err, "orig", None) or err
    state = getattr(orig, "sqlstate", None) or ""
    if state == "57014" and cancel.cancelled():  # query_canceled by our cancel request
        log.info("postgis %s cancelled: the client went away", action)
        return RequestCancelled("the client closed the request")
    if state == "42P01" and client_values:
        return _NoView()  # a collection not ingested yet: expected, not worth a warning
    log.warning("postgis %s failed (sqlstate %s): %s", action, state or "-", str(orig).strip())
    if client_values and state.startswith(_VALUE_ERRORS):
        return InvalidInput("a filter value does not match the field's type")
    if state == "57014":  # statement_timeout
        return StoreTimeout("the store took too long to answer, retry later")
    down = not state and isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError)
    if down or state.startswith(_DOWN_ERRORS) or getattr(err, "connection_invalidated", False):
        return StoreUnavailable(_UNAVAILABLE)
    return AtlasError("the store failed to answer")


@contextmanager
def _interruptible(conn: sa.Connection) -> Iterator[None]:
    """While the block runs, an abandoned request cancels the connection's running statement.

    The cancel request reaches the server on a connection of its own (libpq's cancel key); the
    statement fails with 57014, the transaction rolls back when the connection goes back to the
    pool, and a cancel arriving between statements is ignored by the server (an idle backend
    discards it), so the connection is reused clean.
    """
    raw = conn.connection.dbapi_connection
    if not isinstance(raw, psycopg.Connection):
        yield  # not psycopg 3 (engine_url always selects it): nothing to cancel with
        return
    with cancel.interruptible(lambda: raw.cancel_safe(timeout=5)):
        yield


def _create_extension(conn: sa.Connection) -> None:
    """``CREATE EXTENSION postgis`` when allowed; a clear error when PostGIS is missing."""
    exists = conn.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).first()
    if exists:
        return
    try:
        with conn.begin_nested():
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
    except sa.exc.DBAPIError as err:
        log.error("CREATE EXTENSION postgis failed: %s", str(err.orig).strip())
        raise StoreUnavailable(
            "PostGIS is not installed in this database: a superuser must run CREATE EXTENSION postgis"
        ) from err


# -- rows in and out ---------------------------------------------------------------------


def _copy(conn: sa.Connection, table: sa.Table, rows: list[tuple[Any, ...]]) -> None:
    """``COPY ... FROM STDIN`` through the transaction's own psycopg connection (the fast path)."""
    columns = ", ".join(quote(c.name) for c in table.columns)
    target = f"{quote(str(table.schema))}.{quote(table.name)}"
    raw = conn.connection.driver_connection
    if raw is None:  # only after the pooled connection was invalidated
        raise StoreUnavailable(_UNAVAILABLE)
    halfway = len(rows) // 2
    with raw.cursor() as cur, cur.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
        for index, row in enumerate(rows):
            copy.write_row(row)
            if index == halfway:
                checkpoint("write-midway")


def _copy_rows(layer: VectorLayer, frame: gpd.GeoDataFrame) -> list[tuple[Any, ...]]:
    """The frame as Python tuples: id, fields, hex EWKB in 2154 and in 3857."""
    if frame.crs is not None and frame.crs.to_epsg() != STORAGE_EPSG:
        frame = frame.to_crs(STORAGE_EPSG)
    ids = frame[layer.id_field]
    if ids.isna().any():
        raise ValidationFailed(f"{layer.collection_id}: a feature has no {layer.id_field}")
    ids = ids.astype(str)
    duplicated = ids[ids.duplicated()]
    if len(duplicated):
        raise ValidationFailed(
            f"{layer.collection_id}: duplicate {layer.id_field} '{duplicated.iloc[0][:80]}'"
        )
    n = len(frame)
    columns = [ids.tolist()]
    for spec in layer.fields:
        values = frame[spec.name] if spec.name in frame.columns else None
        columns.append(_python_values(values, spec, n))
    geoms = frame.geometry.values
    columns.append(_ewkb(geoms, STORAGE_EPSG))
    mercator = frame.geometry.to_crs(3857).values if n else geoms
    columns.append(_ewkb(mercator, 3857))
    for values in tile_columns(layer, mercator).values():
        if values.dtype == object:  # generalised geometries, in tile units (no SRID)
            columns.append(list(shapely.to_wkb(values, hex=True)))
        else:
            columns.append([None if np.isnan(v) else float(v) for v in values])
    return list(zip(*columns, strict=True))


def _ewkb(geoms: Any, srid: int) -> list[str | None]:
    # Hex EWKB carries the SRID, which the typed geometry column checks on input.
    return list(shapely.to_wkb(shapely.set_srid(geoms, srid), hex=True, include_srid=True))


def _python_values(values: pd.Series | None, spec: FieldSpec, n: int) -> list[Any]:
    """Plain Python values for psycopg, None for anything missing (NaN, NA, NaT)."""
    if values is None:
        return [None] * n
    if spec.type == "number":
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        return [None if pd.isna(v) else float(v) for v in numbers]
    if spec.type == "integer":
        numbers = pd.to_numeric(values, errors="coerce").astype("Int64")
        return [None if pd.isna(v) else int(v) for v in numbers]
    if spec.type == "boolean":
        return [None if pd.isna(v) else bool(v) for v in values.astype("boolean")]
    if spec.type == "date":
        return [as_date(v) for v in values]
    if spec.type == "datetime":
        stamps = pd.to_datetime(values, errors="coerce", utc=True)
        return [None if pd.isna(v) else v.to_pydatetime() for v in stamps]
    return [None if is_missing(v) else str(v) for v in values]


def _spatial(query: FeatureQuery) -> bool:
    """Whether the query has a spatial criterion (its matches are few enough to gather)."""
    return (
        query.bbox is not None or query.intersects is not None or query.within_distance is not None
    )


def _feature(row: Sequence[Any], names: list[str]) -> Feature:
    """A feature from ``feature_id, <names>…, wkb``."""
    values: tuple[Any, ...] = tuple(row[1:-1])
    properties = {name: python_value(value) for name, value in zip(names, values, strict=True)}
    geometry = shapely.from_wkb(bytes(row[-1])) if row[-1] is not None else None
    return Feature(id=str(row[0]), properties=properties, geometry=geometry)


def _schema_document(layer: VectorLayer) -> dict[str, Any]:
    """The layer schema the version was written with (kept with the version for audits)."""
    return {
        "id_field": layer.id_field,
        "geometry_type": layer.geometry_type,
        "fields": [
            {"name": f.name, "type": f.type, "classification": str(f.classification)}
            for f in layer.fields
        ],
    }


def _version_info(row: Any) -> VersionInfo:
    values = row if isinstance(row, dict) else row._mapping
    return VersionInfo(
        collection_id=values["collection_id"],
        version=int(values["version"]),
        created=values["created"],
        count=int(values["count"]),
        bbox=tuple(values["bbox"]) if values["bbox"] else None,
        report=dict(values["report"] or {}),
    )


def _collection_info(layer: VectorLayer, row: sa.Row[Any]) -> CollectionInfo:
    values = row._mapping  # not ``row.count``: a Row is a tuple, whose count() shadows the column
    return CollectionInfo(
        id=layer.collection_id,
        title=layer.title,
        description=layer.description,
        geometry_type=layer.geometry_type,
        id_field=layer.id_field,
        fields=layer.fields,
        count=int(values["count"]),
        bbox=tuple(values["bbox"]) if values["bbox"] else None,
        version=int(values["version"]),
        updated=values["created"],
    )
