"""Tenants and their API keys in the database: create, find by key, list, revoke.

A key is a long random token (:func:`new_key`); only its SHA-256 is stored, with a short prefix to recognise it by.
A request's key is found by its hash (an indexed lookup: comparing hashes of 256-bit random tokens needs no slow
hash and leaks nothing by timing). The keys of ``DISPATCH_API_KEYS`` are the tenant ``default``'s, stored the same
way at start-up (:func:`sync_configured_keys`). Nothing here knows HTTP.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.models import ApiKeyRecord, TenantRecord
from api.repository import NotFoundError

DEFAULT_TENANT = "default"
"""The tenant of the keys configured in ``DISPATCH_API_KEYS`` (and of sites stored before tenants existed)."""
KEY_PREFIX = "dsp_"
"""Start of every generated key: a leaked key is easy to recognise (secret scanners)."""
SHOWN_CHARS = 12
"""Characters of a key kept in clear and shown in lists (at most a quarter of a short configured key)."""
SETTINGS_ORIGIN = "settings"
"""``api_keys.origin`` of the keys stored from ``DISPATCH_API_KEYS`` (the others: ``api``, ``cli``)."""
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
"""``last_used_at`` is written when it is older than this: not one write per request."""


@dataclasses.dataclass(frozen=True)
class KnownKey:
    """An accepted key: which row, whose tenant."""

    key_id: int
    tenant_id: int
    prefix: str


class DuplicateTenantError(ValueError):
    """A tenant with this name exists."""


def new_key() -> str:
    """A fresh API key: ``dsp_`` and 43 URL-safe characters (256 random bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    """SHA-256 of the key, hex: what is stored and looked up."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_prefix(key: str) -> str:
    """The characters of a key shown in lists: 12, or a quarter of a short key."""
    return key[: min(SHOWN_CHARS, len(key) // 4)]


# --- tenants ---------------------------------------------------------------------------------------------------


def add_tenant(session: Session, name: str) -> TenantRecord:
    """A new tenant; :class:`DuplicateTenantError` when the name is taken."""
    record = TenantRecord(name=name)
    session.add(record)
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise DuplicateTenantError(name) from error
    return record


def get_tenant(session: Session, tenant_id: int) -> TenantRecord:
    record = session.get(TenantRecord, tenant_id)
    if record is None:
        raise NotFoundError("tenant", tenant_id)
    return record


def tenant_named(session: Session, name: str) -> TenantRecord | None:
    return session.scalars(select(TenantRecord).where(TenantRecord.name == name)).first()


def ensure_tenant(session: Session, name: str) -> TenantRecord:
    """The tenant with this name, created when missing (safe when several processes start at once)."""
    found = tenant_named(session, name)
    if found is not None:
        return found
    try:
        return add_tenant(session, name)
    except DuplicateTenantError:
        found = tenant_named(session, name)  # another process created it first
        assert found is not None
        return found


def list_tenants(session: Session, after_id: int, limit: int) -> list[TenantRecord]:
    """Tenants by id, from the first id above ``after_id``."""
    query = select(TenantRecord).where(TenantRecord.id > after_id).order_by(TenantRecord.id).limit(limit)
    return list(session.scalars(query))


# --- keys ------------------------------------------------------------------------------------------------------


def add_key(session: Session, tenant_id: int, label: str, origin: str) -> tuple[ApiKeyRecord, str]:
    """A new key of the tenant: its row and the key itself (returned once, never stored)."""
    get_tenant(session, tenant_id)
    key = new_key()
    record = ApiKeyRecord(
        tenant_id=tenant_id, prefix=key_prefix(key), key_sha256=key_hash(key), label=label, origin=origin
    )
    session.add(record)
    session.commit()
    return record, key


def list_keys(session: Session, tenant_id: int | None, after_id: int = 0, limit: int = 1000) -> list[ApiKeyRecord]:
    """Keys by id (revoked ones too), one tenant's or all, from the first id above ``after_id``."""
    query = select(ApiKeyRecord).where(ApiKeyRecord.id > after_id).order_by(ApiKeyRecord.id).limit(limit)
    if tenant_id is not None:
        query = query.where(ApiKeyRecord.tenant_id == tenant_id)
    return list(session.scalars(query))


def revoke_key(session: Session, key_id: int) -> ApiKeyRecord:
    """Revokes a key at once (a revoked key stays revoked; revoking again changes nothing)."""
    record = session.get(ApiKeyRecord, key_id)
    if record is None:
        raise NotFoundError("API key", key_id)
    if record.revoked_at is None:
        record.revoked_at = dt.datetime.now(dt.UTC)
        session.commit()
    return record


def find_key(session: Session, key: str) -> KnownKey | None:
    """The live (not revoked) key with this value, None when there is none; notes its use (to the minute)."""
    record = session.scalars(select(ApiKeyRecord).where(ApiKeyRecord.key_sha256 == key_hash(key))).first()
    if record is None or record.revoked_at is not None:
        return None
    now = dt.datetime.now(dt.UTC)
    if record.last_used_at is None or now - record.last_used_at >= LAST_USED_RESOLUTION:
        session.execute(update(ApiKeyRecord).where(ApiKeyRecord.id == record.id).values(last_used_at=now))
        session.commit()
    return KnownKey(key_id=record.id, tenant_id=record.tenant_id, prefix=record.prefix)


def sync_configured_keys(session: Session, keys: list[str]) -> None:
    """Stores the hashes of ``DISPATCH_API_KEYS`` as keys of the tenant ``default`` (created when missing) and
    revokes the configured keys no longer configured. A revoked key is never made live again: a key string that
    was revoked (by an admin, or by leaving the configuration) must be replaced by a new one."""
    hashes = {key_hash(key): key for key in keys}
    if hashes:
        tenant = ensure_tenant(session, DEFAULT_TENANT)
        stored = set(session.scalars(select(ApiKeyRecord.key_sha256).where(ApiKeyRecord.key_sha256.in_(list(hashes)))))
        for digest, key in hashes.items():
            if digest in stored:
                continue
            session.add(
                ApiKeyRecord(
                    tenant_id=tenant.id,
                    prefix=key_prefix(key),
                    key_sha256=digest,
                    label="DISPATCH_API_KEYS",
                    origin=SETTINGS_ORIGIN,
                )
            )
            try:
                session.commit()
            except IntegrityError:  # another process stored it first
                session.rollback()
    gone = (
        update(ApiKeyRecord)
        .where(ApiKeyRecord.origin == SETTINGS_ORIGIN, ApiKeyRecord.revoked_at.is_(None))
        .where(ApiKeyRecord.key_sha256.not_in(list(hashes)))
        .values(revoked_at=dt.datetime.now(dt.UTC))
    )
    session.execute(gone)
    session.commit()
