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
        default_factory=list, description="Accepted X-API-Key values (comma-separated in the environment)."
    )
    protect_docs: bool = Field(False, description="Require an API key for /docs and /openapi.json too.")
    max_body_bytes: int = Field(2_000_000, gt=0, description="Largest accepted request body [bytes].")
    max_concurrent_solves: int = Field(2, ge=1, description="Solves running at once; more get 503.")
    retry_after_s: int = Field(5, ge=1, description="Retry-After sent with 503 [s].")
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

    @field_validator("api_keys", "plugins", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
