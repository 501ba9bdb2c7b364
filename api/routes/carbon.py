"""``/v1/sites/{id}/carbon``: the site's carbon ledger for a calendar year, from its daily account, and its
zero-carbon status (:mod:`api.carbon`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.carbon import example, site_ledger
from api.deps import SessionDep
from api.schemas import CarbonLedgerOut, error_responses
from api.tenancy import TenantSiteId

router = APIRouter(prefix="/v1/sites", tags=["carbon"])

LedgerYear = Annotated[
    int | None,
    Query(
        ge=1990,
        le=2100,
        description="Calendar year of the ledger (the site's local days); default: the current year in the site's "
        "time zone. A year before the oldest bundled factor set's is a 422.",
        examples=[2026],
    ),
]
RestateWith = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=100,
        description="Restate the year with this bundled factor set (region/year/version, e.g. CN/2022/published or "
        "CN-NE/2023/published; the account's overrides still apply): months and totals are restated, 'original' "
        "keeps the figures before.",
        examples=["CN/2022/published"],
    ),
]


@router.get(
    "/{site_id}/carbon",
    responses={
        200: {"content": {"application/json": {"example": example()}}},
        **error_responses(
            404,
            422,
            descriptions={
                422: "Not a valid site id or year, a factor set that is not bundled (query.factors), a year no "
                "factor set covers (query.year), or a stored site whose carbon factor choice fits none "
                "(site.carbon.factors)."
            },
        ),
    },
)
def read_carbon(
    site_id: TenantSiteId, session: SessionDep, year: LedgerYear = None, factors: RestateWith = None
) -> CarbonLedgerOut:
    """The carbon ledger of a calendar year, from the site's daily account (the latest row of each day: readings,
    the plan in force where a reading is missing; gas and purchased heat from readings of ``<boiler>.gas_nm3_per_h``
    and ``<heat>.heat_kw`` where sent, else as planned), over the site's carbon account (``site.carbon``; without
    one an empty ISO 14068-1 account, and ``note`` says so).

    Per month and for the year: scope 1 by fuel, scope 2 location-based and market-based (both always), green
    contracts and PV used on site, certificates and offsets retired with their lots, net. The zero-carbon status
    with its reasons, the least-cost closing purchase from the account's quotes and its cost, the lots to retire;
    the factor set used (id, source, year); which days are in (count, first, last, from readings or from plans).
    Days get into the account as plans are made: a site with a carbon account from January 1."""
    return site_ledger(session, site_id, year, factors)
