"""Service settings from environment variables (prefix ``DISPATCH_``, plus ``DATABASE_URL``)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Annotated

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator sets; defaults run a local single-node service on SQLite."""

    model_config = SettingsConfigDict(env_prefix="DISPATCH_", extra="ignore")

    database_url: str = Field(
        "sqlite:///./dispatch.db",
        validation_alias=AliasChoices("DATABASE_URL", "DISPATCH_DATABASE_URL"),
        description="SQLAlchemy URL; SQLite file by default, postgresql+psycopg://... for PostgreSQL.",
    )
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="X-API-Key values of the tenant 'default' (comma-separated in the environment); stored hashed "
        "at start-up, and revoked when no longer listed. More tenants and keys: admin routes or `dispatch keys`.",
    )
    admin_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="X-API-Key values that manage tenants and keys (/v1/admin; comma-separated in the environment). "
        "An admin key reads no tenant's data unless it is also in api_keys.",
    )
    max_failed_auth: int = Field(
        100,
        ge=1,
        description="Wrong keys per client address in failed_auth_window_s; then 429 (whatever the key) until the "
        "window clears. Counted in memory, per process.",
    )
    failed_auth_window_s: float = Field(600.0, gt=0, description="Window of max_failed_auth [s].")
    max_expensive_per_minute: int = Field(
        60,
        ge=1,
        description="Dispatch and scenario-run requests per API key per minute; more get 429. Counted in memory, per "
        "process.",
    )
    protect_docs: bool = Field(False, description="Require an API key for /docs and /openapi.json too.")
    max_body_bytes: int = Field(2_000_000, gt=0, description="Largest accepted request body [bytes].")
    body_read_timeout_s: float = Field(
        30.0, gt=0, description="A request body not fully received this long after the request began gets 408 [s]."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins (scheme://host[:port]) whose browser pages may call the API (comma-separated in the "
        "environment); CORS is off when empty.",
    )
    max_concurrent_solves: int = Field(
        2, ge=1, description="Solves running at once; more wait in the queue (max_queue, queue_wait_s), then 503."
    )
    max_queue: int = Field(
        16, ge=0, description="Requests that wait for a solver slot when every slot is busy; more get 503 at once."
    )
    queue_wait_s: float = Field(
        5.0, ge=0, description="How long a queued request waits for a solver slot before a 503 [s]; 0: no waiting."
    )
    retry_after_s: int = Field(
        5,
        ge=1,
        description="Solve time assumed before any has been timed [s]: a 503's Retry-After is the requests ahead "
        "times the mean recent solve time, shared by the slots (at least 1 s).",
    )
    max_solver_memory_mb: int = Field(
        4096,
        ge=0,
        description="Address space of each solver process (RLIMIT_AS) [MB]; a solve or scenario run that needs more "
        "fails in its own process (a dispatch falls back to the rule-based plan, a scenario run is refused). Virtual "
        "memory: a factory day's solve maps about 1.9 GB for 0.3 GB resident. 0: no limit.",
    )

    default_time_limit_s: float = Field(10.0, gt=0)
    max_time_limit_s: float = Field(60.0, gt=0, description="Largest solver time limit a caller may ask for [s].")
    min_mip_rel_gap: float = Field(1e-6, ge=0, description="Smallest relative MIP gap a caller may ask for.")
    default_mip_rel_gap: float = Field(1e-4, ge=0)
    deadline_margin_s: float = Field(
        15.0, gt=0, description="Hard deadline = time limit + margin; a solve still running then is killed [s]."
    )
    plugins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Asset-kind plug-ins, 'module:function' (comma-separated): each function registers its kinds "
        "(optimizer.assets.register_asset_kind) in the service and in every solver process.",
    )
    max_scenario_steps: int = Field(
        62 * 96, ge=1, description="POST /v1/scenarios/run: most steps (days x steps per day x variants) per run."
    )
    max_scenario_seconds: float = Field(
        600.0, gt=0, description="POST /v1/scenarios/run: a run still going after this is killed (504) [s]."
    )

    weather_url: str | None = Field(
        None,
        description="Weather forecast URL (Open-Meteo JSON) with {latitude}, {longitude}, {tz}; off when unset.",
    )
    weather_fetch_utc: dt.time | None = Field(
        None, description="Read every site's forecast from weather_url at this UTC time each day (e.g. 21:30)."
    )
    max_state_age_minutes: float = Field(
        60.0, gt=0, description="A measured state older than this at the plan's start is not used [min]."
    )
    require_measured_state: bool = Field(
        False, description="Refuse (422) a plan whose initial state comes neither from the request nor a reading."
    )
    history_days: int = Field(120, ge=7, le=400, description="Days of readings the load forecast reads [days].")

    @property
    def solver_memory_mb(self) -> int | None:
        """``max_solver_memory_mb``, None for no limit."""
        return self.max_solver_memory_mb or None

    @field_validator("api_keys", "admin_keys", "plugins", "cors_origins", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
