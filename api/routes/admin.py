"""``/v1/admin``: tenants and their API keys, for admin keys only (``DISPATCH_ADMIN_KEYS``); a tenant's key gets
403. A new key is shown once, in the answer that creates it; lists show its prefix, never the key or its hash."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api import key_store
from api.auth import AdminKey
from api.deps import MAX_ID, SessionDep
from api.models import ApiKeyRecord, TenantRecord
from api.pagination import PAGED_RESPONSE, PageCursor, PageLimit, page
from api.schemas import error_responses

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=error_responses(403))

TenantId = Annotated[int, Path(ge=1, le=MAX_ID, description="Tenant id.")]
KeyId = Annotated[int, Path(ge=1, le=MAX_ID, description="API key id.")]
NO_TENANT = "No tenant with this id."
Label = Annotated[
    str, Field(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$", description="What the key is for (shown in lists).")
]


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f\s]([^\x00-\x1f\x7f]*[^\x00-\x1f\x7f\s])?$",
        description="Unique name: printable, no leading or trailing space.",
    )


class TenantOut(BaseModel):
    id: int
    name: str
    created_at: dt.datetime


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Label = ""


class KeyOut(BaseModel):
    """An API key as listed: never the key or its hash."""

    id: int
    tenant_id: int
    prefix: str = Field(description="The key's first characters.")
    label: str
    origin: str = Field(description="settings (DISPATCH_API_KEYS), api or cli: where it was made.")
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None = Field(description="The last accepted request, to the minute.")


class NewKeyOut(KeyOut):
    key: str = Field(description="The key itself: shown this once, stored only as its SHA-256.")


def tenant_out(record: TenantRecord) -> TenantOut:
    return TenantOut(id=record.id, name=record.name, created_at=record.created_at)


def key_out(record: ApiKeyRecord) -> KeyOut:
    return KeyOut(
        id=record.id,
        tenant_id=record.tenant_id,
        prefix=record.prefix,
        label=record.label,
        origin=record.origin,
        created_at=record.created_at,
        revoked_at=record.revoked_at,
        last_used_at=record.last_used_at,
    )


@router.post(
    "/tenants",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409, 413, 422, descriptions={409: "A tenant with this name exists."}),
)
def create_tenant(body: TenantCreate, session: SessionDep, _: AdminKey) -> TenantOut:
    """A new tenant, with no keys yet."""
    try:
        return tenant_out(key_store.add_tenant(session, body.name))
    except key_store.DuplicateTenantError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, f"a tenant named {body.name!r} exists") from error


@router.get("/tenants", responses={**PAGED_RESPONSE, **error_responses(422)})
def list_tenants(
    request: Request,
    response: Response,
    session: SessionDep,
    _: AdminKey,
    limit: PageLimit = 100,
    cursor: PageCursor = None,
) -> list[TenantOut]:
    """Tenants by id, a page at a time (the next page's URL in the ``Link`` header)."""
    rows = key_store.list_tenants(session, cursor or 0, limit + 1)
    return [tenant_out(r) for r in page(rows, limit, request, response, lambda r: r.id)]


@router.post(
    "/tenants/{tenant_id}/keys",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404, 413, 422, descriptions={404: NO_TENANT}),
)
def create_key(tenant_id: TenantId, body: KeyCreate, session: SessionDep, _: AdminKey) -> NewKeyOut:
    """A new key of the tenant: the answer holds the key itself, which cannot be read again."""
    record, key = key_store.add_key(session, tenant_id, body.label, origin="api")
    return NewKeyOut(**key_out(record).model_dump(), key=key)


@router.get(
    "/tenants/{tenant_id}/keys",
    responses={**PAGED_RESPONSE, **error_responses(404, 422, descriptions={404: NO_TENANT})},
)
def list_keys(
    tenant_id: TenantId,
    request: Request,
    response: Response,
    session: SessionDep,
    _: AdminKey,
    limit: PageLimit = 100,
    cursor: PageCursor = None,
) -> list[KeyOut]:
    """The tenant's keys by id, revoked ones too: prefix, label, when made, revoked and last used."""
    key_store.get_tenant(session, tenant_id)
    rows = key_store.list_keys(session, tenant_id, cursor or 0, limit + 1)
    return [key_out(r) for r in page(rows, limit, request, response, lambda r: r.id)]


@router.delete(
    "/keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(404, 422, descriptions={404: "No API key with this id."}),
)
def revoke_key(key_id: KeyId, session: SessionDep, _: AdminKey) -> Response:
    """Revokes the key: its next request gets 401. Revoking a revoked key changes nothing."""
    key_store.revoke_key(session, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
