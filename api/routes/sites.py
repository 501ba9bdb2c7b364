"""Sites: create, read, update, list, delete."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import ApiKey
from api.deps import SessionDep, SiteId
from api.models import SiteRow
from api.schemas import SiteCreate, SitePublic, SiteUpdate

router = APIRouter(prefix="/v1/sites", tags=["sites"])


def _public(row: SiteRow) -> SitePublic:
    return SitePublic(id=row.id, name=row.name, spec=row.spec, created_at=row.created_at, updated_at=row.updated_at)


def load_site(session: Session, site_id: int) -> SiteRow:
    row = session.get(SiteRow, site_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"site {site_id} not found")
    return row


@router.post("", status_code=status.HTTP_201_CREATED)
def create_site(body: SiteCreate, session: SessionDep, _: ApiKey) -> SitePublic:
    row = SiteRow(name=body.name, spec=body.model_dump(mode="json", exclude_unset=True))
    session.add(row)
    session.commit()
    return _public(row)


@router.get("")
def list_sites(session: SessionDep, _: ApiKey) -> list[SitePublic]:
    return [_public(r) for r in session.scalars(select(SiteRow).order_by(SiteRow.id))]


@router.get("/{site_id}")
def read_site(site_id: SiteId, session: SessionDep, _: ApiKey) -> SitePublic:
    return _public(load_site(session, site_id))


@router.put("/{site_id}")
def update_site(site_id: SiteId, body: SiteUpdate, session: SessionDep, _: ApiKey) -> SitePublic:
    row = load_site(session, site_id)
    row.name = body.name
    row.spec = body.model_dump(mode="json", exclude_unset=True)
    session.commit()
    return _public(row)


@router.delete("/{site_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_site(site_id: SiteId, session: SessionDep, _: ApiKey) -> Response:
    session.delete(load_site(session, site_id))
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
