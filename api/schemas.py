"""Request and response bodies of the HTTP API (one schema per purpose)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from optimizer.baseline_state import BaselineShortfall
from optimizer.kpis import BaselineKpis, Kpis, Savings, savings
from optimizer.limits import EARLIEST_DATE, LATEST_DATE
from scenarios.ems import DispatchRequest, HorizonRequest
from scenarios.ems_data import Origin
from scenarios.kpis import written_savings, written_shortfall
from scenarios.ledger_entries import FactorSetRef, LedgerTotals
from scenarios.site import Site
from scenarios.zero_carbon import ZeroCarbonStatus

ApiStatus = Literal["optimal", "feasible", "relaxed", "fallback"]

EARLIEST_DAY = EARLIEST_DATE
LATEST_DAY = LATEST_DATE
"""Days a dispatch may plan: those a horizon may cover (:mod:`optimizer.limits`)."""


class SiteCreate(Site):
    """A new site: the same model as a scenario file's ``site:`` block."""


class SiteUpdate(Site):
    """A full replacement of a site's definition."""


class SitePublic(BaseModel):
    id: int
    name: str
    spec: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class SolverLimits(BaseModel):
    """Caller's solver limits, checked against the server's bounds."""

    model_config = ConfigDict(extra="forbid")

    time_limit_s: float | None = Field(None, gt=0, description="Solver time limit [s]; default from settings.")
    mip_rel_gap: float | None = Field(None, ge=0, le=0.5, description="Relative MIP gap; default from settings.")


class DispatchBody(DispatchRequest):
    """``POST /v1/sites/{id}/dispatch``: a day (or horizon), forecasts, initial states, solver limits."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [{"required": ["date"]}, {"required": ["horizon"]}, {"required": ["from"]}],
            "examples": [
                {"date": "2026-07-15"},
                {"from": "2026-07-15T10:03:00+08:00"},
                {
                    "horizon": {"start": "2026-07-15T12:00:00+08:00", "n_steps": 48},
                    "series": {"pv_roof.available_kw": [120.0] * 48},
                    "initial_state": {"battery": {"initial_soc_frac": 0.4}, "grid": {"month_to_date_peak_kw": 1500.0}},
                    "solver": {"time_limit_s": 20, "mip_rel_gap": 0.001},
                },
            ],
        }
    )

    solver: SolverLimits = Field(default_factory=SolverLimits)

    @field_validator("date")
    @classmethod
    def _date_in_range(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and not EARLIEST_DAY <= value <= LATEST_DAY:
            raise ValueError(f"must be between {EARLIEST_DAY} and {LATEST_DAY}")
        return value

    @field_validator("from_", "until")
    @classmethod
    def _time_in_range(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and not EARLIEST_DAY <= value.date() <= LATEST_DAY:
            raise ValueError(f"must be between {EARLIEST_DAY} and {LATEST_DAY}")
        return value

    @field_validator("horizon")
    @classmethod
    def _start_in_range(cls, value: HorizonRequest | None) -> HorizonRequest | None:
        if value is not None and not EARLIEST_DAY <= value.start.date() <= LATEST_DAY:
            raise ValueError(f"start must be between {EARLIEST_DAY} and {LATEST_DAY}")
        return value


class ViolationOut(BaseModel):
    kind: Literal["target_shortfall", "infeasible_constraint"]
    name: str
    amount: float
    unit: str | None = None
    step: int | None = None
    timestamp: str | None = None


class Provenance(BaseModel):
    input_hash: str
    product_version: str
    solver_version: str
    created_at: dt.datetime


class SourceOut(BaseModel):
    """Where one input or initial state of a plan came from."""

    origin: Origin
    as_of: dt.datetime | None = Field(None, description="The reading's time, or the forecast's issue time.")
    detail: str = ""
    quantiles: dict[str, list[float]] | None = Field(
        None,
        description="A forecast made by the service: its quantiles per step of the plan, 'p10', 'p50', 'p90' "
        "(in the input's unit; 10 % of outcomes should fall below p10), for planning under uncertainty; null when "
        "none could be made (see docs/forecasting.md).",
    )


class PeriodAccountOut(BaseModel):
    """Where one target or contract volume over a day, month, year or date range stood at the plan's start (the
    site's daily account plus the part of the day before the plan), and what the plan had to do for it."""

    item: str = Field(description="pv_self_consumption, green_share, emission_cap or '<contract>.energy'.")
    period: str = Field(description="The accounting period of the plan's first step: 2026-07, 2026, a date, a range.")
    unit: Literal["share", "kWh", "kgCO2"]
    counted_from: dt.date = Field(
        description="First day counted: the period's start, or the site's first day in the account if later."
    )
    required_to_date: float = Field(
        description="Up to the plan's start: the minimum share; or the contract's minimum, or the cap, pro-rated to "
        "the days counted (the pro-rata line)."
    )
    achieved_to_date: float | None = Field(
        description="What the account (targets.so_far) says was done (None: no base)."
    )
    maximum_to_date: float | None = Field(None, description="Contracts: the maximum pro-rated to the days counted.")
    plan_required: float | None = Field(
        description="What the plan had to do in its steps of the period: the volume to take (the pro-rata line to its "
        "end less what was taken), the emissions allowed, or the share its own energy had to reach."
    )
    plan_maximum: float | None = Field(None, description="Contracts: the most the plan could take in the period.")
    plan_achieved: float | None = Field(description="What the plan does in its steps of the period.")
    origin: Origin = Field(
        description="Where the progress came from: reading, previous-plan (the plan in force), request."
    )
    detail: str = ""


class ScheduleSummary(BaseModel):
    schedule_id: int
    site_id: int
    local_date: str
    horizon_start: dt.datetime
    n_steps: int
    status: ApiStatus
    created_at: dt.datetime


class ScheduleOut(BaseModel):
    """A stored schedule: what to run, how good it is, and where it came from."""

    schedule_id: int
    site_id: int
    status: ApiStatus = Field(
        description="optimal; feasible (time limit, see solver.mip_gap); relaxed (soft targets missed, see "
        "violations); fallback (rule-based schedule: the solver failed, ran out of time or the problem is infeasible)."
    )
    message: str
    violations: list[ViolationOut]
    kpis: dict[str, Any]
    baseline_kpis: dict[str, Any] = Field(
        description="The rule-based baseline's KPIs; its shortfalls (what it leaves unmet) under 'shortfalls'."
    )
    saving_cny: float | None = Field(
        description="Rule-based money paid minus the plan's [CNY]; null when the baseline leaves demand unmet "
        "(see saving_label)."
    )
    baseline_feasible: bool = Field(
        True, description="False when the rule-based baseline leaves demand unmet: no saving is stated against it."
    )
    saving_label: str | None = Field(
        None, description="'baseline infeasible: <what is unmet>' when no saving is stated, else null."
    )
    baseline_shortfalls: list[BaselineShortfall] = Field(
        default_factory=list,
        description="What the rule-based baseline leaves unmet (or, for electricity, cannot place), per bus: "
        "the amount, the worst step and the assets.",
    )
    savings: Savings | None = Field(
        None,
        description="The saving split by cost group (energy, demand_charge, gas, heat, certificates, other: they "
        "add up to saving_cny, each to 0.01), the carbon cost apart, per day, the demand charge per month billed "
        "and the annualised estimate.",
    )
    solver: dict[str, Any]
    provenance: Provenance
    plan_kind: Literal["day-ahead", "intraday", "horizon"] | None = Field(
        None, description="A plan is in force from its start until a newer plan of the site starts."
    )
    sources: dict[str, SourceOut] = Field(
        default_factory=dict,
        description="Per input ('inputs.<name>') and initial state ('initial_state.<asset>.<field>'): where it came "
        "from (the request, a reading, a forecast made by the service, the previous plan, the site's own value); "
        "'targets.so_far' (and 'targets.so_far.<item>' per item of period_account): the progress carried in.",
    )
    period_account: list[PeriodAccountOut] = Field(
        default_factory=list,
        description="Targets and contract volumes over a day, month, year or date range: where each stood at the "
        "plan's start and what the plan had to do for it (empty when the plan carries no progress, targets.so_far).",
    )
    columns: list[str]
    report_metadata: dict[str, Any] | None = Field(
        None, description="Per column: bus, sign and role; store capacities; TOU band per step (for reports)."
    )
    schedule: list[dict[str, Any]] = Field(description="One record per step: interval_start and every setpoint.")

    @model_validator(mode="after")
    def _state_the_saving(self) -> ScheduleOut:
        """The saving's label, split and scaling from the two KPIs (also for a stored response read back); no
        saving against a baseline that leaves demand unmet; the shortfalls written at their precision."""
        for kpis in (self.kpis, self.baseline_kpis):
            if kpis.get("shortfalls"):
                kpis["shortfalls"] = [written_shortfall(s) for s in kpis["shortfalls"]]
        try:
            plan, baseline = Kpis.model_validate(self.kpis), BaselineKpis.model_validate(self.baseline_kpis)
        except ValidationError:
            return self  # KPIs this version cannot read: the saving as stored
        saving = savings(plan, baseline)
        self.baseline_feasible = saving.baseline_feasible
        self.saving_label = saving.label
        self.baseline_shortfalls = list(baseline.shortfalls)
        self.savings = Savings.model_validate(written_savings(saving))
        if not saving.baseline_feasible:
            self.saving_cny = None
        return self


# --- The carbon ledger (GET /v1/sites/{id}/carbon, and each run of POST /v1/scenarios/run) -------------------------


class LotUseOut(BaseModel):
    """A certificate or credit lot's use over a period of the ledger."""

    lot_id: str
    kind: str = Field(description="gec, ccer, international or other.")
    quantity: float = Field(description="Allocated over the period [MWh for GEC, tCO2 for credits], in fractions.")
    unit: Literal["MWh", "tCO2"]
    kgco2: float = Field(
        description="Emissions it counters [kgCO2]: GEC MWh x 1000 x the residual factor the figures rest on; credits "
        "tCO2 x 1000."
    )
    cost_cny: float = Field(description="Quantity x the lot's price [CNY].")


class CarbonTotalsOut(LedgerTotals):
    """A period's totals (a month ``YYYY-MM``, a year ``YYYY``, or ``all`` for a run): scope 1 by fuel, scope 2
    location-based and market-based (before certificates; both always), green contracts and PV used on site
    (separate metrics), certificates and offsets retired with their lots, net. Restatements included."""

    net_tco2: float = Field(description="net_kgco2 / 1000 [tCO2].")
    certificate_lots: list[LotUseOut] = Field(default_factory=list, description="GEC lots retired in the period.")
    offset_lots: list[LotUseOut] = Field(default_factory=list, description="Offset lots retired in the period.")


class CarbonPeriodsOut(BaseModel):
    """Totals per month and for the year."""

    months: list[CarbonTotalsOut]
    totals: CarbonTotalsOut


class LedgerDaysOut(BaseModel):
    """Which days of the site's daily account the ledger holds (one day entry per day: its latest row)."""

    count: int = Field(description="Days in the ledger.")
    first: dt.date | None
    last: dt.date | None
    from_readings: int = Field(description="Days whose electricity, gas and heat all came from readings.")
    from_plan: int = Field(description="Days with no reading: all from the plan in force then.")
    mixed: int = Field(description="Days partly read, the rest (a missing reading, an unmetered flow) as planned.")
    without_fuels: int = Field(
        0,
        description="Days with no figure of gas or purchased heat (neither read nor planned on a site that burns or "
        "buys them, or recorded before fuels were kept): counted with none, so scope 1 and heat are too low.",
    )
    note: str = Field(description="How days get into the account.")


class CarbonLedgerOut(BaseModel):
    """A site's carbon ledger for one calendar year, from its daily account, and its zero-carbon status."""

    site_id: int
    year: int
    account: bool = Field(description="Whether the site has its own carbon account (site.carbon).")
    standard: str = Field(description="The zero-carbon standard the status is judged by.")
    note: str | None = Field(None, description="Set when the site has no carbon account: what the ledger runs over.")
    factor_set: FactorSetRef = Field(description="The factor set the day entries were made with (id, source, year).")
    restated_with: FactorSetRef | None = Field(
        None, description="The set of ?factors=, with the account's overrides: months and totals are restated."
    )
    days: LedgerDaysOut
    months: list[CarbonTotalsOut] = Field(description="Per calendar month with days in the ledger, in order.")
    totals: CarbonTotalsOut = Field(description="The year (the days in the ledger).")
    original: CarbonPeriodsOut | None = Field(
        None, description="With ?factors=: the months and the year before the restatement (the day entries alone)."
    )
    status: ZeroCarbonStatus | None = Field(
        None,
        description="Met or not, the reasons, the least-cost closing purchase from the account's quotes and its cost, "
        "the lots to retire; for the days in the ledger. None while no day of the year is in the account.",
    )


class RunCarbonOut(BaseModel):
    """A run's carbon ledger (:func:`scenarios.ledger.ledger_from_run`): one day entry per local day of the run."""

    account: bool = Field(description="Whether the scenario's site has its own carbon account (site.carbon).")
    standard: str
    note: str | None = None
    factor_sets: list[FactorSetRef] = Field(description="The factor sets the entries use (id, source, year).")
    totals: CarbonTotalsOut = Field(description="Over the run.")
    statuses: list[ZeroCarbonStatus] = Field(description="Each calendar year of the run: the zero-carbon status.")


# --- Error bodies (documented in the OpenAPI document; api/errors.py and api/app.py write them) -------------------


class ErrorOut(BaseModel):
    """A problem (RFC 9457, ``application/problem+json``): every error answer of the API; routes may add members
    (e.g. ``errors`` of a 422)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field("about:blank", description="The kind of problem; about:blank: the status says it all.")
    title: str = Field(description="The status's reason phrase (e.g. Not Found).")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong and, where the caller can act, what to do.")
    instance: str | None = Field(None, description="The request path the problem occurred on.")


class ErrorDetail(BaseModel):
    """One problem of a 422: the field it concerns, in the caller's words."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int] = Field(
        description="Where, as a path: the request part (body, query, header, path), then field names and list "
        "indexes; or site and the stored site's field; line N for a CSV row."
    )
    field: str = Field(
        description="The same path as the caller reads it: body.assets[2].capacity_kwh, query.end, "
        "header.Idempotency-Key, path.site_id, line N.value, site.…"
    )
    msg: str = Field(description="What is wrong with it.")
    type: str = Field(description="A machine-readable kind (pydantic's error type, or e.g. series_length, csv).")
    input: Any = Field(
        None, description="The value that was refused, when there is one to show (an excerpt: at most 200 characters)."
    )
    row: int | None = Field(None, description="Readings: the index of the bad reading in the batch (from 0).")
    step: int | None = Field(None, description="Dispatch: the step of the horizon the problem is at.")


class ValidationErrorOut(ErrorOut):
    """422: every problem found in the request at once (nothing was stored or solved), in ``errors``; ``detail``
    names the first."""

    errors: list[ErrorDetail]


class ProbeOut(BaseModel):
    """A readiness probe's answer."""

    status: str = Field(description="ready, or unavailable (503).")
    reason: str | None = Field(None, description="Why not ready: the database error's type.")


_API_KEY_HEADER = {"WWW-Authenticate": {"description": "APIKey", "schema": {"type": "string"}}}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}

ERROR_RESPONSES: dict[int, dict[str, Any]] = {
    401: {
        "model": ErrorOut,
        "description": "The X-API-Key header is missing or not a known key.",
        "headers": _API_KEY_HEADER,
    },
    403: {"model": ErrorOut, "description": "A tenant's key on an admin route: only an admin key may do this."},
    404: {"model": ErrorOut, "description": "No site or schedule with this id (another tenant's is none either)."},
    406: {"model": ErrorOut, "description": "text/html asked for but the HTML renderer is not installed."},
    409: {"model": ErrorOut, "description": "No weather URL is configured on the server (DISPATCH_WEATHER_URL)."},
    408: {
        "model": ErrorOut,
        "description": "The request body did not arrive within the server's limit (body_read_timeout_s).",
    },
    413: {"model": ErrorOut, "description": "The request body is larger than the server accepts (max_body_bytes)."},
    415: {"model": ErrorOut, "description": "The Content-Type is not one the operation reads (application/json)."},
    422: {
        "model": ValidationErrorOut,
        "description": "The request is not valid: every problem, each at the field it concerns.",
    },
    429: {
        "model": ErrorOut,
        "description": "Too many requests: too many wrong API keys from this address, or too many dispatch and "
        "scenario-run requests with this key in the last minute; retry after Retry-After seconds.",
        "headers": _RETRY_AFTER,
    },
    500: {"model": ErrorOut, "description": "The run failed on the server."},
    502: {"model": ErrorOut, "description": "The configured weather URL did not answer with a readable forecast."},
    503: {
        "model": ErrorOut,
        "description": "Every solver slot is busy: retry after Retry-After seconds (with the same Idempotency-Key).",
        "headers": _RETRY_AFTER,
    },
    504: {"model": ErrorOut, "description": "The run did not finish within the server's limit (max_scenario_seconds)."},
}
"""How every error status of the API is documented (FastAPI ``responses=``)."""

PROBLEM_MEDIA_TYPE = "application/problem+json"
_PROBLEM_SCHEMAS = {f"#/components/schemas/{model.__name__}" for model in (ErrorOut, ValidationErrorOut)}
BODY_ERRORS = (408, 415)
"""Answers any operation with a request body may give (api/limits.py, api/media_types.py): documented on each."""


def problem_media_types(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with every error answer under ``application/problem+json`` (FastAPI writes each
    ``responses=`` model under ``application/json``) and 408/415 on every operation with a request body; in place
    and idempotent."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code in BODY_ERRORS if "requestBody" in operation else ():
                if str(code) not in responses:
                    entry = ERROR_RESPONSES[code]
                    schema = {"$ref": f"#/components/schemas/{entry['model'].__name__}"}
                    content = {PROBLEM_MEDIA_TYPE: {"schema": schema}}
                    responses[str(code)] = {"description": entry["description"], "content": content}
            for code, response in responses.items():
                content = response.get("content") or {}
                schema = (content.get("application/json") or {}).get("schema") or {}
                if code[:1] in "45" and schema.get("$ref") in _PROBLEM_SCHEMAS:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
    return document


def error_responses(*codes: int, descriptions: dict[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for these error statuses, with a route's own wording where ``descriptions`` has one."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        out[code] = dict(ERROR_RESPONSES[code])
        if descriptions and code in descriptions:
            out[code]["description"] = descriptions[code]
    return out


def inline_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its ``$defs`` written in place: for a body documented by hand
    (``openapi_extra``), where a ``$ref`` to ``#/$defs/...`` or to a component FastAPI did not emit would dangle."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    return resolve(schema)
