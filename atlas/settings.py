"""Settings from the environment, prefix ``ATLAS_``; one class per concern."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class StoreSettings(BaseSettings):
    """Where the data lives: PostGIS when a ``postgresql://`` URL is set, else the embedded store."""

    model_config = SettingsConfigDict(env_prefix="ATLAS_", extra="ignore")

    database_url: SecretStr | None = None
    # PostGIS schema of the catalog and views (data tables go to "<schema>_data"); tests and
    # benchmarks use a throwaway one so that they never touch a deployment's data.
    database_schema: str = Field(default="atlas", pattern=r"^[a-z_][a-z0-9_]{0,40}$")
    data_dir: Path = Field(default=Path("atlas-data"))
    statement_timeout_ms: int = Field(default=30_000, ge=100)
    pool_size: int = Field(default=5, ge=1, le=100)
    # DuckDB threads per statement in each process reading the embedded store. Requests already
    # run side by side (one statement each); DuckDB's own parallelism on top of them spent more
    # CPU per answer: dense z16 tiles, 2 requests at a time in one process, 67 tiles/s with its
    # default (a thread per core) against 107 with one.
    embedded_threads: int = Field(default=1, ge=1, le=64)
    # PostgreSQL's parallel workers per statement of the store (max_parallel_workers_per_gather
    # of all its sessions: reads, extracts and ingest writes; index builds have their own),
    # for the same reason: a dense z14 tile took 38 ms with PostgreSQL's default (2 workers, three
    # processes' CPU) against 28 ms alone, and the requests beside it wait for those cores.
    parallel_workers: int = Field(default=0, ge=0, le=64)

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        url = value.get_secret_value()
        if not url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            raise ValueError("ATLAS_DATABASE_URL must be a postgresql:// URL")
        return value

    @property
    def uses_postgis(self) -> bool:
        """True when the PostGIS store is selected."""
        return self.database_url is not None


class IngestSettings(BaseSettings):
    """Limits that protect ingest from hostile or broken input."""

    model_config = SettingsConfigDict(env_prefix="ATLAS_INGEST_", extra="ignore")

    max_archive_bytes: int = Field(
        default=2 * 1024**3, description="uncompressed size cap of an archive"
    )
    max_compression_ratio: float = Field(
        default=200.0, description="zip-bomb guard: uncompressed/compressed"
    )
    max_archive_members: int = Field(default=10_000)
    max_raster_pixels: int = Field(
        default=40_000 * 40_000, description="width x height cap of a raster"
    )
    max_raster_bytes: int = Field(default=8 * 1024**3)
    max_rejected_ratio: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="refuse a version when more rows than this are rejected",
    )
    read_timeout_s: int = Field(
        default=1800,
        ge=1,
        description="wall-clock and CPU seconds one sandboxed read of an input may take",
    )
    read_memory_mb: int = Field(
        default=8192,
        ge=256,
        description="address space of the sandboxed reader, in MiB (a bomb stops there)",
    )


class ApiSettings(BaseSettings):
    """HTTP server settings."""

    model_config = SettingsConfigDict(env_prefix="ATLAS_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(
        default=1, ge=1, le=64, description="API worker processes (atlas serve), one port shared"
    )
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        default="info", description="server log level (atlas serve)"
    )
    access_log: bool = Field(default=True, description="one log line per request (atlas serve)")
    # The handlers waiting on a store at once per worker; the others wait their turn in order.
    # anyio's default, 40, let 16 requests of a worker share the GIL at once and starve some; 4
    # let a database on the same cores share them between 8 statements of two workers, so that a
    # dense tile's 48 ms became 150 (bench/tiles.py's p99, README): 2 keeps one statement per
    # worker running while the next request's Python work goes on.
    handler_threads: int = Field(
        default=2, ge=1, le=200, description="request handlers running at once per worker"
    )
    default_limit: int = Field(default=100, ge=1)
    max_limit: int = Field(default=10_000, ge=1)
    public_url: str | None = Field(
        default=None,
        description="the URL clients reach the API at (https://atlas.example.org/geo); every link",
    )
    # Only these peers may say, through Host and X-Forwarded-Host/-Proto/-For, which URL the
    # client used and who the client is (atlas.api.forwarded); anyone else could forge them.
    trusted_proxies: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = Field(
        default=(), description="addresses or networks of the reverse proxies, comma-separated"
    )
    public_max_age: int = Field(
        default=60, ge=0, description="Cache-Control max-age of responses to public callers"
    )
    # FastAPI's native OpenTelemetry looks for a configured provider on every request (about
    # 15 µs of a 100 µs warm tile); off unless a deployment that configures one asks for it.
    opentelemetry: bool = Field(
        default=False, description="FastAPI's OpenTelemetry spans and metrics (a provider needed)"
    )

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        url = urlsplit(value.strip())
        if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
            raise ValueError("ATLAS_PUBLIC_URL must be an http(s)://host[:port][/path] URL")
        return url.geturl().rstrip("/")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        return value


class AuthSettings(BaseSettings):
    """API keys: where they are kept (keys.sqlite under ATLAS_DATA_DIR, or PostgreSQL)."""

    model_config = SettingsConfigDict(env_prefix="ATLAS_AUTH_", extra="ignore")

    db_schema: str = Field(
        default="atlas_auth",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="PostgreSQL schema of the api_keys table (PostGIS setup only)",
    )
    # OpenID Connect bearer tokens (JWT, RS256), accepted beside API keys when a JWKS is set.
    oidc_jwks: str | None = Field(
        default=None, description="the identity provider's JWKS: an https:// URL or a file path"
    )
    oidc_issuer: str | None = Field(default=None, description="required 'iss' of tokens")
    oidc_audience: str | None = Field(default=None, description="required 'aud' of tokens")
    oidc_role_claim: str = Field(
        default="roles",
        description="claim holding the roles; dotted for nested, e.g. realm_access.roles",
    )
    oidc_roles: dict[str, Literal["public", "b2b", "internal"]] = Field(
        default={"atlas-internal": "internal", "atlas-b2b": "b2b"},
        description="role -> tier (JSON); the most trusted tier among a token's roles applies",
    )

    # Browser sign-in with OIDC (authorization code + PKCE): the provider's endpoints and this
    # application's client registration; without them the sign-in page offers API keys only.
    oidc_client_id: str | None = Field(default=None, description="client id at the provider")
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="client secret (confidential client); unset: a public client"
    )
    oidc_authorize_url: str | None = Field(default=None, description="authorization endpoint")
    oidc_token_url: str | None = Field(default=None, description="token endpoint")
    oidc_provider_name: str = Field(
        default="OpenID Connect", description="shown on the button 'Sign in with …'"
    )

    @property
    def browser_oidc(self) -> bool:
        """True when the sign-in page may offer the provider (verifier, client and endpoints)."""
        return bool(
            self.oidc_jwks
            and self.oidc_client_id
            and self.oidc_authorize_url
            and self.oidc_token_url
        )

    @model_validator(mode="after")
    def _oidc_complete(self) -> AuthSettings:
        if self.oidc_jwks and not (self.oidc_issuer and self.oidc_audience):
            # Without both checks, a token the same provider issued for another app would pass.
            raise ValueError("ATLAS_AUTH_OIDC_JWKS needs ATLAS_AUTH_OIDC_ISSUER and _AUDIENCE")
        return self


class SessionSettings(BaseSettings):
    """Browser sessions (sign-in page): how long one lasts, idle and at most."""

    model_config = SettingsConfigDict(env_prefix="ATLAS_SESSION_", extra="ignore")

    idle_minutes: float = Field(
        default=30.0, gt=0, description="a session unused this long ends (minutes)"
    )
    max_hours: float = Field(
        default=12.0, gt=0, description="a session ends this long after sign-in, used or not"
    )


class AuditSettings(BaseSettings):
    """The append-only audit log: audit/audit.sqlite under ATLAS_DATA_DIR, or PostgreSQL."""

    model_config = SettingsConfigDict(env_prefix="ATLAS_AUDIT_", extra="ignore")

    db_schema: str = Field(
        default="atlas_audit",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="PostgreSQL schema of the audit records table (PostGIS setup only)",
    )


class LimitSettings(BaseSettings):
    """Rate limits per caller (API key, or client IP for public), in requests per minute."""

    model_config = SettingsConfigDict(env_prefix="ATLAS_RATE_", extra="ignore")

    enabled: bool = True
    public_per_minute: int = Field(default=120, ge=1)
    b2b_per_minute: int = Field(default=600, ge=1)
    internal_per_minute: int = Field(default=3000, ge=1)
    max_clients: int = Field(
        default=100_000, ge=1, description="buckets kept in memory; the least recent go first"
    )
    # A map asks for dozens of tiles per view: a tile costs this share of a request, so that one
    # visitor panning a map stays within the public tier's budget (0.05: 2,400 tiles a minute).
    tile_cost: float = Field(
        default=0.05, gt=0, le=1, description="share of a request a tile costs"
    )


class CapSettings(BaseSettings):
    """Per-tier caps: the largest page of items and the largest extract (features) a tier gets."""

    model_config = SettingsConfigDict(env_prefix="ATLAS_CAP_", extra="ignore")

    page_public: int = Field(default=1_000, ge=1)
    page_b2b: int = Field(default=5_000, ge=1)
    page_internal: int = Field(default=10_000, ge=1)
    extract_public: int = Field(default=10_000, ge=0)
    extract_b2b: int = Field(default=100_000, ge=0)
    extract_internal: int = Field(default=5_000_000, ge=0)

    def page(self, tier: str) -> int:
        """The page-size cap of ``tier``."""
        return int(getattr(self, f"page_{tier}"))

    def extract(self, tier: str) -> int:
        """The extract-size cap of ``tier`` (features)."""
        return int(getattr(self, f"extract_{tier}"))


class ExtractSettings(BaseSettings):
    """Extract jobs: worker threads, how long files are kept, how many a caller may queue.

    Commune clips read the ``communes`` collection (``atlas ingest communes FILE``); the former
    ``ATLAS_EXTRACT_COMMUNES`` file setting is gone, and no boundaries are ever generated.
    """

    model_config = SettingsConfigDict(env_prefix="ATLAS_EXTRACT_", extra="ignore")

    workers: int = Field(default=2, ge=1, le=32, description="extract jobs run at once per process")
    keep_hours: float = Field(default=24.0, gt=0, description="finished jobs are removed after")
    max_active_per_caller: int = Field(default=3, ge=1, description="queued or running, per caller")


# EPSG:2154's area of use (metropolitan France and Corsica, with their sea): any mainland
# agglomeration ingests with it before it narrows the box to its own territory.
DEFAULT_TERRITORY_BBOX = (-9.86, 41.15, 10.38, 51.56)


class TerritorySettings(BaseSettings):
    """The territory the data must lie in: ingest rejects the rows outside it."""

    model_config = SettingsConfigDict(env_prefix="ATLAS_TERRITORY_", extra="ignore")

    bbox: Annotated[tuple[float, float, float, float], NoDecode] = Field(
        default=DEFAULT_TERRITORY_BBOX,
        description="west,south,east,north in degrees (CRS84); rows outside it are rejected",
    )

    @field_validator("bbox", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(v.strip() for v in value.strip().strip("[]()").split(",") if v.strip())
        return value

    @field_validator("bbox")
    @classmethod
    def _lonlat_box(cls, value: tuple[float, float, float, float]) -> tuple[float, ...]:
        west, south, east, north = value
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise ValueError("ATLAS_TERRITORY_BBOX must be west,south,east,north in degrees")
        return value


class BodySettings(BaseSettings):
    """Request bodies (every POST/PUT/PATCH route takes JSON): refused past these caps."""

    model_config = SettingsConfigDict(env_prefix="ATLAS_BODY_", extra="ignore")

    max_bytes: int = Field(default=1024 * 1024, ge=1024, description="size cap of a body; 413")
    max_depth: int = Field(
        default=64, ge=4, le=1000, description="nesting cap of arrays and objects; 400"
    )


class TileSettings(BaseSettings):
    """The budget of one vector tile (above it, the smallest features are left out) and the
    vector tile cache."""

    model_config = SettingsConfigDict(env_prefix="ATLAS_TILE_", extra="ignore")

    max_features: int = Field(default=10_000, ge=1, description="features in one tile")
    max_bytes: int = Field(default=500_000, ge=10_000, description="encoded size of one tile")
    cache_bytes: int = Field(
        default=64 * 1024 * 1024, ge=0, description="vector tiles kept in memory per tier; 0: none"
    )
    cache_dir: Path | None = Field(
        default=None, description="vector tiles kept on disk, shared by the workers of one host"
    )


class PmtilesSettings(BaseSettings):
    """Where the API finds the PMTiles archives it serves (``atlas export pmtiles`` writes them)."""

    model_config = SettingsConfigDict(env_prefix="ATLAS_PMTILES_", extra="ignore")

    dir: Path | None = Field(
        default=None, description="directory of the served .pmtiles archives; unset: none served"
    )


class MapSettings(BaseSettings):
    """The generated Folium maps (``atlas.maps``): their base map and their cache."""

    model_config = SettingsConfigDict(env_prefix="ATLAS_", extra="ignore")

    basemap_url: str | None = Field(
        default=None,
        description="an XYZ tile URL ({z}/{x}/{y}) drawn under the maps, e.g. Plan IGN; unset:"
        " our own base map only (communes, roads, water, hillshade), nothing fetched elsewhere",
    )
    basemap_attribution: str = Field(
        default="", description="the attribution shown with ATLAS_BASEMAP_URL"
    )
    maps_cache_entries: int = Field(
        default=12, ge=0, description="rendered map pages kept in memory (tier, language, versions)"
    )

    @field_validator("basemap_url")
    @classmethod
    def _https_tiles(cls, value: str | None) -> str | None:
        placeholders = ("{z}", "{x}", "{y}")
        if value is not None and (
            not value.startswith("https://") or not all(p in value for p in placeholders)
        ):
            raise ValueError("must be an https:// URL with {z}, {x} and {y}")
        return value


class ContactSettings(BaseSettings):
    """The contact every portal sheet names: the agglomeration's economic-development office.

    Not the CNIG ``site_moa_comm``: producers write a sales officer's own name there (personal
    data, staff only), so a public sheet names an office an operator chose to publish.
    """

    model_config = SettingsConfigDict(env_prefix="ATLAS_CONTACT_", extra="ignore")

    name: str = Field(
        default="Direction du développement économique", description="who investors write to"
    )
    role: str = Field(
        default="Accueil des entreprises et des investisseurs", description="what that office does"
    )
    email: str = Field(
        default="entreprendre@agglomeration.example.org", pattern=r"^[^@\s]+@[^@\s]+$"
    )
    phone: str = Field(default="+33 1 60 00 00 00", description="printed as written")


class Settings(BaseSettings):
    """All settings of one Atlas deployment."""

    model_config = SettingsConfigDict(env_prefix="ATLAS_", extra="ignore")

    store: StoreSettings = Field(default_factory=StoreSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    session: SessionSettings = Field(default_factory=SessionSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    caps: CapSettings = Field(default_factory=CapSettings)
    extracts: ExtractSettings = Field(default_factory=ExtractSettings)
    bodies: BodySettings = Field(default_factory=BodySettings)
    tiles: TileSettings = Field(default_factory=TileSettings)
    pmtiles: PmtilesSettings = Field(default_factory=PmtilesSettings)
    maps: MapSettings = Field(default_factory=MapSettings)
    territory: TerritorySettings = Field(default_factory=TerritorySettings)
    contact: ContactSettings = Field(default_factory=ContactSettings)
