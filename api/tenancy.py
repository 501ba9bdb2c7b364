"""What a route may touch: only the caller's tenant's rows. Another tenant's site answers 404, the same as none.

Every route with a ``{site_id}`` in its path takes :data:`TenantSiteId`; schedules are looked up through their
site's tenant (:func:`api.repository.get_schedule`). The services behind these routes then work on the site id."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.concurrency import run_in_threadpool

from api import repository
from api.auth import ApiKey
from api.deps import SessionDep, SiteId


async def tenant_site_id(site_id: SiteId, session: SessionDep, caller: ApiKey) -> int:
    """The site id when the site is the caller's tenant's; 404 otherwise."""
    await run_in_threadpool(repository.tenant_site, session, caller.tenant_id, site_id)
    return site_id


TenantSiteId = Annotated[int, Depends(tenant_site_id)]
"""A site id of the caller's tenant (path parameter ``site_id``); 404 for any other."""
