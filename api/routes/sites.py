"""Sites: create, read, update, list, delete (the same site model as a scenario file's ``site:`` block); a tenant
sees only its own sites."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api import repository
from api.auth import ApiKey
from api.deps import SessionDep
from api.models import SiteRow
from api.pagination import PAGED_RESPONSE, PageCursor, PageLimit, page
from api.schemas import SiteCreate, SitePublic, SiteUpdate, error_responses
from api.tenancy import TenantSiteId

router = APIRouter(prefix="/v1/sites", tags=["sites"])


def _public(row: SiteRow) -> SitePublic:
    return SitePublic(id=row.id, name=row.name, spec=row.spec, created_at=row.created_at, updated_at=row.updated_at)


def _spec(body: SiteCreate) -> dict:
    """What the caller wrote (defaults left out), so that an exported site reads like the file it came from."""
    return body.model_dump(mode="json", exclude_unset=True)


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(413, 422))
def create_site(body: SiteCreate, session: SessionDep, caller: ApiKey) -> SitePublic:
    return _public(repository.add_site(session, caller.tenant_id, body.name, _spec(body)))


@router.get("", responses={**PAGED_RESPONSE, **error_responses(422)})
def list_sites(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: ApiKey,
    limit: PageLimit = 100,
    cursor: PageCursor = None,
) -> list[SitePublic]:
    """The tenant's sites by id, a page at a time (the next page's URL in the ``Link`` header)."""
    rows = repository.list_sites(session, caller.tenant_id, cursor or 0, limit + 1)
    return [_public(r) for r in page(rows, limit, request, response, lambda r: r.id)]


@router.get("/{site_id}", responses=error_responses(404, 422))
def read_site(site_id: TenantSiteId, session: SessionDep) -> SitePublic:
    return _public(repository.get_site(session, site_id))


@router.put("/{site_id}", responses=error_responses(404, 413, 422))
def update_site(site_id: TenantSiteId, body: SiteUpdate, session: SessionDep, caller: ApiKey) -> SitePublic:
    return _public(repository.replace_site(session, caller.tenant_id, site_id, body.name, _spec(body)))


@router.delete("/{site_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404, 422))
def delete_site(site_id: TenantSiteId, session: SessionDep, caller: ApiKey) -> Response:
    repository.delete_site(session, caller.tenant_id, site_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
