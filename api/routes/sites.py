"""Sites: create, read, update, list, delete (the same site model as a scenario file's ``site:`` block)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api import repository
from api.auth import ApiKey
from api.deps import SessionDep, SiteId
from api.models import SiteRow
from api.schemas import SiteCreate, SitePublic, SiteUpdate, error_responses

router = APIRouter(prefix="/v1/sites", tags=["sites"])


def _public(row: SiteRow) -> SitePublic:
    return SitePublic(id=row.id, name=row.name, spec=row.spec, created_at=row.created_at, updated_at=row.updated_at)


def _spec(body: SiteCreate) -> dict:
    """What the caller wrote (defaults left out), so that an exported site reads like the file it came from."""
    return body.model_dump(mode="json", exclude_unset=True)


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(413, 422))
def create_site(body: SiteCreate, session: SessionDep, _: ApiKey) -> SitePublic:
    return _public(repository.add_site(session, body.name, _spec(body)))


@router.get("")
def list_sites(session: SessionDep, _: ApiKey) -> list[SitePublic]:
    return [_public(r) for r in repository.list_sites(session)]


@router.get("/{site_id}", responses=error_responses(404, 422))
def read_site(site_id: SiteId, session: SessionDep, _: ApiKey) -> SitePublic:
    return _public(repository.get_site(session, site_id))


@router.put("/{site_id}", responses=error_responses(404, 413, 422))
def update_site(site_id: SiteId, body: SiteUpdate, session: SessionDep, _: ApiKey) -> SitePublic:
    return _public(repository.replace_site(session, site_id, body.name, _spec(body)))


@router.delete("/{site_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404, 422))
def delete_site(site_id: SiteId, session: SessionDep, _: ApiKey) -> Response:
    repository.delete_site(session, site_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
