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
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, event, insert, select
from sqlalchemy.orm import Session, SessionTransaction

from app.clock import business_today, utcnow
from app.errors import CellError, Forbidden, NotFound, ValidationFailed
from app.i18n import label, t
from app.meta.figures import price_blind, unfillable
from app.meta.registry import Registry, move_stamp
from app.meta.spec import TODAY, FieldSpec, ModelSpec, RoleSpec
from app.meta.tables import SETTINGS_ROW
from app.services.access.rights import ADMIN_ROLE, Access
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


def price_mask_locks(registry: Registry, blind: list[str]) -> list[tuple[ModelSpec, FieldSpec, RoleSpec]]:
    """(model, field, role): each required field a role under 价格屏蔽 (`blind`) writes and could then not fill, by the
    check roles.yaml gets at start-up (app/meta/figures.py `unfillable`); an admin is never price-blind."""
    return list(unfillable(registry.meta.models, price_blind(registry.meta.roles, set(blind) - {ADMIN_ROLE})))


def _check_price_mask(registry: Registry, blind: list[str]) -> None:
    """价格屏蔽 switched on for roles: a listed role must still be able to fill every required field of what it writes,
    or it could save none of those rows. Every such field is named at once, with its model."""
    problems = [
        CellError(
            "value",
            t(
                "price_mask_unfillable",
                role=label(role.label, role.key),
                model=label(model.label, model.key),
                field=label(spec.label, spec.name),
            ),
        )
        for model, spec, role in price_mask_locks(registry, blind)
    ]
    if problems:
        raise ValidationFailed(problems)


def set_policy(session: Session, access: Access, key: str, raw: Any) -> Any:
    """Change one switch (admin only), audited in the same transaction; returns the stored value."""
    if not access.is_admin:
        raise Forbidden(t("forbidden"))
    declared = _declared(access.registry)
    if key not in declared:
        raise NotFound(t("not_found"))
    value = _parse(key, declared[key].get("value"), raw, access.registry)
    if key == PRICE_MASK:
        _check_price_mask(access.registry, value)
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
