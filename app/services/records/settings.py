"""Policy switches (jshERP's checklist): defaults in metadata/settings.yaml, changes in the database,
every change audited.

Reads are cached per settings stamp: every change moves the stamp (a row of jxc_meta_state, in the change's
transaction), each request reads it with the metadata version in the one query it makes anyway
(`RegistryHolder.refresh_if_stale`) and hands it to `settings_read_at`; within that transaction the values
stored under the same stamp are used without a query. A change made in another process is seen by the next
request; a transaction without a stamp (jobs, the command line) reads the table.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, event, insert, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction

from app.clock import business_today, utcnow
from app.errors import CellError, Forbidden, NotFound, ValidationFailed
from app.i18n import label, t
from app.meta.registry import Registry, move_stamp, read_stamp
from app.meta.spec import TODAY, FieldSpec
from app.meta.tables import SETTINGS_ROW
from app.services.access.locks import Lock, lock_text, mask_locks, stored_pairs
from app.services.access.origins import read_origins
from app.services.access.rights import Access
from app.services.records.audit import audit_change
from app.services.records.tables import setting


@dataclass(frozen=True)
class Policy:
    """One switch: its key, current value, default, and labels."""

    key: str
    value: Any
    default: Any
    label: str
    help: str


def _declared(registry: Registry) -> dict[str, dict[str, Any]]:
    policies = registry.meta.settings.get("policy") or {}
    return {k: v for k, v in policies.items() if isinstance(v, dict)}


log = logging.getLogger(__name__)

PRICE_MASK = "hide_prices_from_roles"  # 价格屏蔽: roles that see no prices or amounts (app/services/users/access.py)
STAMP = "jxc_settings_stamp"  # session.info: the settings stamp read in the session's transaction
CACHED = "settings"  # Registry.cache: (stamp, {key: stored value})


def settings_read_at(session: Session, stamp: int | None) -> None:
    """The settings stamp this transaction read (None: there is none): policy reads may use the values
    cached under it until the transaction ends."""
    if stamp is None:
        session.info.pop(STAMP, None)
    else:
        session.info[STAMP] = stamp


@event.listens_for(Session, "after_transaction_end")
def _stamp_ends(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(STAMP, None)


def _stored(session: Session, registry: Registry) -> dict[str, Any]:
    """{key: value} of the switches changed from their defaults (shared by every reader: not to be changed)."""
    stamp = session.info.get(STAMP)
    if stamp is not None:
        cached = registry.cache.get(CACHED)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    stored = {key: json.loads(value) for key, value in session.execute(select(setting.c.key, setting.c.value))}
    if stamp is not None:  # read after the stamp: at least as new as what it stands for
        registry.cache[CACHED] = (stamp, stored)
    return stored


def move_settings_stamp(session: Session, missing_only: bool = False) -> None:
    """A new settings stamp, in the caller's transaction (with a change of a setting; `missing_only`: at init,
    only when the database has none)."""
    move_stamp(session, SETTINGS_ROW, missing_only)


def policies(session: Session, registry: Registry) -> list[Policy]:
    """Every declared switch with its value in force."""
    stored = _stored(session, registry)
    return [
        Policy(
            key,
            stored.get(key, spec.get("value")),
            spec.get("value"),
            label(spec.get("label"), key),
            label(spec.get("help")),
        )
        for key, spec in _declared(registry).items()
    ]


def policy(session: Session, registry: Registry, key: str) -> Any:
    """The value in force of one switch (the YAML default until someone changes it)."""
    stored = _stored(session, registry)
    if key in stored:
        return stored[key]
    return _declared(registry).get(key, {}).get("value")


def policy_values(session: Session, registry: Registry, keys: tuple[str, ...]) -> dict[str, Any]:
    """The values in force of several switches (one query at most)."""
    stored = _stored(session, registry)
    declared = _declared(registry)
    return {key: stored[key] if key in stored else declared.get(key, {}).get("value") for key in keys}


def field_default(session: Session, registry: Registry, spec: FieldSpec) -> Any:
    """What a new row gets for a field left blank: the value in force of the switch it follows
    (`default_setting`), today for a date declared `default: today`, else its declared default."""
    if spec.default_setting is not None:
        return policy(session, registry, spec.default_setting)
    if spec.type == "date" and spec.default == TODAY:
        return business_today()
    return spec.default


def _parse(key: str, default: Any, raw: Any, registry: Registry) -> Any:
    if key.endswith("_date"):
        if raw in (None, ""):
            return None
        try:
            return dt.date.fromisoformat(str(raw)).isoformat()
        except ValueError as exc:
            raise ValidationFailed([CellError(key, t("not_date"))]) from exc
    if isinstance(default, bool):
        if not isinstance(raw, bool):
            raise ValidationFailed([CellError(key, t("not_boolean"))])
        return raw
    if isinstance(default, int):  # a count (days, megabytes): a whole number, zero or more
        try:
            number = int(str(raw).strip())
        except ValueError as exc:
            raise ValidationFailed([CellError(key, t("not_integer"))]) from exc
        if number < 0:
            raise ValidationFailed([CellError(key, t("not_integer"))])
        if key.endswith("_percent") and number > 100:  # the ABC shares
            raise ValidationFailed([CellError(key, t("not_percent"))])
        return number
    if isinstance(default, list):
        if not isinstance(raw, list) or any(r not in registry.meta.roles for r in raw):
            raise ValidationFailed([CellError(key, t("not_option", options=", ".join(registry.meta.roles)))])
        return sorted(set(raw))
    return raw


def price_mask_locks(session: Session, registry: Registry, blind: list[str]) -> list[Lock]:
    """(model, field, role): each required field 价格屏蔽 on `blind` would keep a listed role from filling in what it
    writes, its permissions as the database holds them (app/services/access/locks.py, the check roles.yaml gets
    at load; copies of a listed role are masked with it: app/services/access/origins.py); an admin is never
    price-blind."""
    origins = read_origins(session)
    names = [*blind, *(name for name, origin in origins.items() if origin in blind)]
    return mask_locks(registry, stored_pairs(session, names), blind, origins)


def _check_price_mask(session: Session, registry: Registry, blind: list[str]) -> None:
    """价格屏蔽 switched on for roles: a listed role must still be able to fill every required field of what it writes,
    or it could save none of those rows. Every such field is named at once, with its model."""
    problems = [
        CellError("value", lock_text("price_mask_unfillable", lock))
        for lock in price_mask_locks(session, registry, blind)
    ]
    if problems:
        raise ValidationFailed(problems)


@dataclass(frozen=True)
class StoredMask:
    """价格屏蔽 as the app found it stored when it started: the settings stamp it was read under, and the locks it
    would make (a value stored before the switch was checked); the roles they name are left out of the mask in
    force until the switch is changed (which moves the stamp, and is checked)."""

    stamp: int | None
    locks: tuple[Lock, ...]


def check_stored_price_mask(conn: Connection, registry: Registry) -> StoredMask:
    """At start-up: the stored 价格屏蔽 checked as the live switch is; each lock logged as a warning naming the role,
    model and field. Not refused: a setting must not keep a business out of its app; the roles it would lock are
    left out of the mask in force and the settings page says so (app/services/users/access.py `mask_left_out`)."""
    if not inspect(conn).has_table(setting.name):  # before `jxc init`: nothing stored
        return StoredMask(None, ())
    stamp = read_stamp(conn, SETTINGS_ROW)
    found = StoredMask(stamp, tuple(price_mask_locks(conn, registry, policy(conn, registry, PRICE_MASK) or [])))
    for model, spec, role in found.locks:
        log.warning(
            "%s (价格屏蔽) not in force for role '%s': it writes %s, whose required field '%s' it could then neither"
            " see nor fill; take the role out of the setting, or make the field optional or give it a default",
            PRICE_MASK,
            role.key,
            model.key,
            spec.name,
        )
    return found


def set_policy(session: Session, access: Access, key: str, raw: Any) -> Any:
    """Change one switch (admin only), audited in the same transaction; returns the stored value."""
    if not access.is_admin:
        raise Forbidden(t("forbidden"))
    declared = _declared(access.registry)
    if key not in declared:
        raise NotFound(t("not_found"))
    value = _parse(key, declared[key].get("value"), raw, access.registry)
    if key == PRICE_MASK:
        _check_price_mask(session, access.registry, value)
    store_policy(session, access, key, value)
    return value


def store_policy(session: Session, access: Access, key: str, value: Any) -> None:
    """Store a switch's value as `set_policy` has checked it, audited, and commit (a database may hold a value
    stored before a check was added: 价格屏蔽 on a role that writes a required amount)."""
    before = policy(session, access.registry, key)
    session.execute(delete(setting).where(setting.c.key == key))
    session.execute(
        insert(setting).values(key=key, value=json.dumps(value), updated_at=utcnow(), updated_by=access.username)
    )
    move_settings_stamp(session)
    audit_change(session, access, "jxc_setting", None, "update", {key: before}, {key: value})
    session.commit()
