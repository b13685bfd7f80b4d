"""Who may do what: actions per model (FAB permissions), masks by kind of figure, sides and row scope (roles.yaml).

Every channel (REST, forms, grid, imports, exports, reports, accounts, jobs) asks this module; nothing else
decides access. A field is hidden from a role when it reveals a kind of figure the role hides (what the field
is and what it is computed from, see app/meta/figures.py); a row is visible to a role when it is on one of the
role's sides and matches its row scope; a link to a row the reader may not see reads as empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from app.errors import Forbidden
from app.i18n import t
from app.meta.figures import kinds_shown
from app.meta.registry import Registry
from app.meta.reports import ReportSpec
from app.meta.spec import FIGURES, FieldSpec, ModelSpec, RoleSpec
from app.services.access.origins import origin_of, spec_of
from app.services.access.tables import user_department, user_warehouse

ADMIN_ROLE = "admin"
OWN, DEPARTMENT, ALL = "own", "department", "all"  # how far a role's "me" row scope reaches
EVERY_FIGURE = frozenset(FIGURES)


def permission_resource(model: ModelSpec) -> str:
    """The FAB view-menu name that carries a model's permissions (lines use the document's)."""
    key = model.permission_model
    return "".join(part.capitalize() for part in key.split("_"))


@dataclass
class Access:
    """What one user may do, computed once per request or job."""

    registry: Registry
    user_id: int | None
    username: str
    role_names: tuple[str, ...]
    permissions: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    # the copies among the user's roles: (name, the roles.yaml key whose entry it takes) (access/origins.py)
    origins: tuple[tuple[str, str], ...] = ()
    price_blind: bool = False  # 价格屏蔽: every role of the user is in hide_prices_from_roles
    # how far a role's "me" row scope reaches (settings department_scope_roles / all_scope_roles)
    scope_levels: dict[str, str] = field(default_factory=dict)
    # reads `permissions` when first asked (an admin never needs them); None: `permissions` is complete
    load_permissions: Callable[[], frozenset[tuple[str, str]]] | None = field(default=None, repr=False)
    _seen: dict[Any, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # masks depend on the metadata version (the registry), the roles and 价格屏蔽 only: users with the same
        # roles share them until metadata changes (a live field, roles.yaml reloaded) or the switch does
        self._seen = self.registry.cache.setdefault(("can_see", self.role_names, self.origins, self.price_blind), {})

    @property
    def rights_key(self) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...], bool, frozenset[tuple[str, str]]]:
        """(roles, the copies' origins, 价格屏蔽, permission set): all that `can`, `can_see`, `can_write` and
        `visible_fields` read of the user, so all that decides which models, actions and fields they see (not which
        rows: no row scope). An admin's permissions are never read (the empty set)."""
        if self.is_admin:
            return self.role_names, self.origins, self.price_blind, frozenset()
        if self.load_permissions is not None:
            self.permissions, self.load_permissions = self.load_permissions(), None
        return self.role_names, self.origins, self.price_blind, self.permissions

    def rights_only(self) -> Access:
        """An Access holding `rights_key` and nothing else of the user (no id, no row scope levels): what is built
        from it is the same for every user with the same key, and may be kept under it."""
        role_names, origins, price_blind, permissions = self.rights_key
        return Access(self.registry, None, "", role_names, permissions, origins, price_blind)

    @property
    def is_admin(self) -> bool:
        """Admins see and do everything."""
        return ADMIN_ROLE in self.role_names

    @property
    def roles(self) -> list[RoleSpec]:
        """The user's roles that take an entry of roles.yaml (their own, or a copy's origin's: `spec_of`)."""
        key = ("roles", self.role_names, self.origins)
        if key not in self._seen:
            roles, origins = self.registry.meta.roles, dict(self.origins)
            self._seen[key] = tuple(spec for r in self.role_names if (spec := spec_of(roles, r, origins)) is not None)
        return list(self._seen[key])

    @property
    def origin_names(self) -> set[str]:
        """The roles.yaml keys the user's roles are (a copy's origin): what a field's read_roles / write_roles name."""
        return {role.origin for role in self.roles}

    def stands_for(self, key: str) -> str | None:
        """The user's own role that stands for the roles.yaml role `key` where approvals.yaml and the period lock's
        override name roles (None: none does): `key` itself, or a copy of it (its origin, never more: a copy of
        salesperson is no manager whatever it is named or granted). admin stays by name: a copy of admin stands for
        nothing admin is named for, as it is no admin (`is_admin`)."""
        origins = dict(self.origins)
        for name in self.role_names:
            if origin_of(name, origins) == key and (key != ADMIN_ROLE or name == ADMIN_ROLE):
                return name
        return None

    def roles_on(self, model: ModelSpec) -> list[RoleSpec]:
        """The user's roles that roles.yaml lets act on the model: their masks, sides and scope apply to it."""
        roles = self.roles
        granting = [role for role in roles if role.grants(model.permission_model)]
        return granting or roles

    def can(self, model_key: str, action: str) -> bool:
        """May the user do `action` on `model_key`?"""
        if self.is_admin:
            return True
        model = self.registry.model(model_key)
        if self.load_permissions is not None:
            self.permissions, self.load_permissions = self.load_permissions(), None
        return (f"can_{action}", permission_resource(model)) in self.permissions

    def require(self, model_key: str, action: str) -> None:
        """Raise Forbidden unless the user may do `action` on `model_key`."""
        if not self.can(model_key, action):
            raise Forbidden(t("forbidden"))

    # -- masks ----------------------------------------------------------------------------------

    def hidden_figures(self, role: RoleSpec) -> frozenset[str]:
        """The kinds of figures a role hides from this user (all of them under 价格屏蔽)."""
        return EVERY_FIGURE if self.price_blind else role.hidden_figures

    def _kinds(self, model: ModelSpec, spec: FieldSpec, role: RoleSpec) -> set[str]:
        """The kinds of figures the field shows this role (`side` is the sides of the rows the role sees)."""
        return kinds_shown(self.registry.meta.models, model, spec, role.sides)

    def can_see(self, model: ModelSpec, spec: FieldSpec) -> bool:
        """Is the field visible to the user: not hidden by every role's masks (fields, kinds of figures)?"""
        if spec.hidden:
            return False
        if self.is_admin:
            return True
        if spec.read_roles and not set(spec.read_roles) & self.origin_names:
            return False
        key = (model.key, spec.name)
        if key not in self._seen:
            self._seen[key] = any(
                spec.name not in role.hidden_fields.get(model.key, ())
                and not self._kinds(model, spec, role) & self.hidden_figures(role)
                for role in self.roles_on(model)
            )
        return self._seen[key]

    def can_write(self, model: ModelSpec, spec: FieldSpec) -> bool:
        """May the user set the field through a payload?"""
        if spec.readonly or spec.system or model.kind == "ledger" or not self.can_see(model, spec):
            return False
        if self.is_admin:
            return True
        if spec.write_roles and not set(spec.write_roles) & self.origin_names:
            return False
        return any(spec.name not in role.readonly_fields.get(model.key, ()) for role in self.roles_on(model))

    def visible_fields(self, model: ModelSpec) -> list[FieldSpec]:
        """Fields the user may read, in display order (a fresh list: callers may change it)."""
        key = (model.key, None, "visible")
        if key not in self._seen:
            self._seen[key] = tuple(spec for spec in model.fields if self.can_see(model, spec))
        return list(self._seen[key])

    def masked_fields(self, model: ModelSpec) -> list[FieldSpec]:
        """Fields the user may not see by a mask (a role's hidden fields or kinds of figures, 价格屏蔽, read_roles):
        their labels are no secret (every 进销存 has a 单价), their values are; `hidden: true` fields are no one's."""
        return [spec for spec in model.fields if not spec.hidden and not self.can_see(model, spec)]

    def may_use(self, model_key: str, *field_names: str) -> bool:
        """May the user read the model and see each named field? What accounts and reports check per source."""
        if not self.can(model_key, "read"):
            return False
        model = self.registry.model(model_key)
        return all((spec := model.field(name)) is not None and self.can_see(model, spec) for name in field_names)

    def require_use(self, model_key: str, *field_names: str) -> ModelSpec:
        """Forbidden unless `may_use`; returns the model (its rows are then read through `scope`)."""
        if not self.may_use(model_key, *field_names):
            raise Forbidden(t("forbidden"))
        return self.registry.model(model_key)

    # -- reports --------------------------------------------------------------------------------

    def may_run(self, report: ReportSpec) -> bool:
        """May the user run the report: roles.yaml's `reports:` lists it for one of their roles, they see the
        kinds of figure it is about, and they may read each of its sources (and see the fields it names there)?"""
        if not self.is_admin and not any(role.runs(report.key) for role in self.roles):
            return False
        if not self.sees_figures(report.about):
            return False
        return all(self.may_use(model, *fields) for model, fields in report.sources.items())

    def sees_figures(self, figures: frozenset[str]) -> bool:
        """Does one of the user's roles show every one of these kinds of figure (a report column's)?"""
        if self.is_admin or not figures:
            return True
        return any(not figures & self.hidden_figures(role) for role in self.roles)

    # -- rows -----------------------------------------------------------------------------------

    def warehouse_ids(self) -> Any:
        """SQL for the warehouses assigned to the user."""
        return select(user_warehouse.c.warehouse_id).where(user_warehouse.c.user_id == self.user_id)

    def works_in(self, session: Session, model: ModelSpec, warehouse_id: int) -> bool:
        """May the user work in this warehouse on `model` (its `warehouse` field, see `warehouses_for`)?"""
        ids = self.warehouses_for(model, "warehouse")
        return ids is None or warehouse_id in set(session.execute(ids).scalars())

    def warehouses_for(self, model: ModelSpec, field: str) -> Any:
        """SQL for the warehouse ids the user may name in `field` of `model`, or None for any: every role of theirs
        on the model scopes its rows by that field alone to their warehouses (a keeper's stocktake.warehouse; not
        a transfer's from_warehouse, whose rule admits a row by either end)."""
        if self.scope(model) is None:
            return None
        for role in self.roles_on(model):
            if (role.row_scope.get(model.key) or {}) != {field: "my_warehouses"}:
                return None
        return self.warehouse_ids()

    def department_user_ids(self) -> Any:
        """SQL for the users of the user's department (none when the user has no department)."""
        department = self.registry.cls("department")
        mine = (
            select(user_department.c.department_id)
            .join(department, department.id == user_department.c.department_id)  # a department that exists
            .where(user_department.c.user_id == self.user_id)
        )
        return select(user_department.c.user_id).where(user_department.c.department_id.in_(mine))

    def scope(self, model: ModelSpec, _seen: frozenset[str] = frozenset()) -> ColumnElement[bool] | None:
        """Row filter for the model, or None when the user sees every row."""
        if self.is_admin:
            return None
        cls = self.registry.cls(model.key)
        if model.is_line:
            parent = self.registry.model(model.parent or "")
            parent_scope = self.scope(parent, _seen)
            if parent_scope is None:
                return None
            parent_cls = self.registry.cls(parent.key)
            return cls.parent_id.in_(select(parent_cls.id).where(parent_scope))
        roles = self.roles_on(model)
        if not roles:
            return false()
        conditions: list[ColumnElement[bool]] = []
        for role in roles:
            parts = [
                c
                for c in (self._side_condition(model, role), self._rule_condition(model, role, _seen))
                if c is not None
            ]
            if not parts:
                return None
            conditions.append(and_(*parts) if len(parts) > 1 else parts[0])
        return or_(*conditions)

    def _side_condition(self, model: ModelSpec, role: RoleSpec) -> ColumnElement[bool] | None:
        """Rows on the role's sides (None when the role reads every side of the model)."""
        if model.sides is None:
            return None
        allowed = model.sides.options_on(role.sides)
        if len(allowed) == len(model.sides.values):
            return None
        column = getattr(self.registry.cls(model.key), model.sides.field)
        return column.in_(allowed) if allowed else false()

    def _rule_condition(self, model: ModelSpec, role: RoleSpec, seen: frozenset[str]) -> ColumnElement[bool] | None:
        """The role's row_scope rule for the model: a row matches when ANY listed field does."""
        rule = role.row_scope.get(model.key)
        level = self.scope_levels.get(role.origin, OWN)
        if not rule or (level == ALL and "me" in rule.values()):
            return None
        cls = self.registry.cls(model.key)
        conditions: list[ColumnElement[bool]] = []
        for field_name, token in rule.items():
            spec = model.field(field_name)
            column = getattr(cls, spec.column)  # type: ignore[union-attr]
            if token == "me" and level == DEPARTMENT:
                conditions.append(or_(column == self.user_id, column.in_(self.department_user_ids())))
            elif token == "me":
                conditions.append(column == self.user_id)
            elif token == "visible":
                conditions.append(self._visible_link(spec, column, seen | {model.key}))  # type: ignore[arg-type]
            else:
                conditions.append(column.in_(self.warehouse_ids()))
        return or_(*conditions)

    def _visible_link(self, spec: FieldSpec, column: Any, seen: frozenset[str]) -> ColumnElement[bool]:
        target = spec.to or ""
        if target in seen:  # a scope that leads back to itself names no row
            return false()
        ids = self.linkable(target, seen)
        return column.isnot(None) if ids is None else column.in_(ids)

    def linkable(self, model_key: str, _seen: frozenset[str] = frozenset()) -> Any:
        """SQL for the ids of `model_key` rows the user may see through a link, or None for every row.

        A link to a row outside them reads as empty, and cannot be filtered or sorted on."""
        model = self.registry.model(model_key)
        cls = self.registry.cls(model.key)
        if not self.can(model.key, "read"):
            return select(cls.id).where(false())
        scope = self.scope(model, _seen)
        return None if scope is None else select(cls.id).where(scope)

    def may_assign_user(self, session: Session, model: ModelSpec, spec: FieldSpec, user_id: int | None) -> bool:
        """May the user put `user_id` in a user field? See `assignable_users`."""
        allowed = self.assignable_users(session, model, spec)
        return allowed is None or user_id in allowed

    def assignable_users(self, session: Session, model: ModelSpec, spec: FieldSpec) -> set[int | None] | None:
        """The users the writer may name in a user field (None: anyone). In a field their scope is `me` on, only
        themselves (and their department's users at the department level), unless a role of theirs reads every
        row of the model: a salesperson names no other salesperson on an order, even to a customer of theirs
        whose documents they read whoever sold (`{salesperson: me, partner: visible}`)."""
        if self.is_admin or spec.type != "user":
            return None
        allowed: set[int | None] = set()
        for role in self.roles_on(model):
            rule = role.row_scope.get(model.key) or {}
            level = self.scope_levels.get(role.origin, OWN)
            if rule.get(spec.name) != "me" or level == ALL:
                return None  # this role names anyone here
            allowed.add(self.user_id)
            if level == DEPARTMENT:
                allowed |= set(session.execute(self.department_user_ids()).scalars())
        return allowed

    # -- rows that are gone -----------------------------------------------------------------------

    def allows_values(self, session: Session, model: ModelSpec, values: dict[str, Any]) -> bool:
        """Would a row with these stored values (an audit snapshot: links as ids) be visible to the user?

        For rows that no longer exist (a deleted row's id in the grid's change feed)."""
        scope = self.scope(model)
        if scope is None:
            return True
        for role in self.roles_on(model):
            if self._side_allows(model, role, values) and self._rule_allows(session, model, role, values):
                return True
        return False

    def outside_fields(self, session: Session, model: ModelSpec, values: dict[str, Any]) -> list[str]:
        """The fields of a row the user's row scope does not admit (`values` as stored: links as ids): a field
        whose value no role of theirs that scopes rows by it admits (the sides' field when no role reads the
        row's side), in the order the roles name them. What a refusal names (盘点仓库 WH02)."""
        roles = self.roles_on(model)
        if self.scope(model) is None or not roles:
            return []
        out = []
        if model.sides is not None and not any(self._side_allows(model, role, values) for role in roles):
            out.append(model.sides.field)
        rules = [rule for role in roles if (rule := self._rule(model, role))]
        for name in dict.fromkeys(name for rule in rules for name in rule):
            value = values.get(name)
            if not any(self._field_allows(session, model, rule[name], name, value) for rule in rules if name in rule):
                out.append(name)
        return out

    def own_side(self, model: ModelSpec) -> str | None:
        """The value of the model's sides field a new row of the user's takes when left blank: the one option lying
        wholly on the sides the user's roles read, when they do not read every side (a salesperson's new 往来单位 is
        a 客户, a purchaser's a 供应商; 客户及供应商 is on a side they do not read). None for who reads every side."""
        if model.sides is None:
            return None
        sides = frozenset().union(*(role.sides for role in self.roles_on(model)))
        if len(model.sides.options_on(sides)) == len(model.sides.values):
            return None
        whole = [value for value, on in model.sides.values.items() if set(on) <= sides]
        return whole[0] if len(whole) == 1 else None

    def _side_allows(self, model: ModelSpec, role: RoleSpec, values: dict[str, Any]) -> bool:
        if model.sides is None:
            return True
        return values.get(model.sides.field) in model.sides.options_on(role.sides)

    def _rule(self, model: ModelSpec, role: RoleSpec) -> dict[str, tuple[str, str]]:
        """The role's row_scope rule on the model as {field: (token, the role's scope level)}, empty when it
        admits every row."""
        rule = role.row_scope.get(model.key) or {}
        level = self.scope_levels.get(role.origin, OWN)
        if level == ALL and "me" in rule.values():
            return {}
        return {name: (token, level) for name, token in rule.items()}

    def _rule_allows(self, session: Session, model: ModelSpec, role: RoleSpec, values: dict[str, Any]) -> bool:
        rule = self._rule(model, role)
        if not rule:
            return True
        return any(self._field_allows(session, model, token, name, values.get(name)) for name, token in rule.items())

    def _field_allows(
        self, session: Session, model: ModelSpec, token: tuple[str, str], field_name: str, value: Any
    ) -> bool:
        """Does a stored value of `field_name` admit the row by the rule's (token, level): me, visible or
        my_warehouses?"""
        if value is None:
            return False
        kind, level = token
        if kind == "me":
            users = {self.user_id}
            if level == DEPARTMENT:
                users |= set(session.execute(self.department_user_ids()).scalars())
            return value in users
        if kind == "visible":
            spec = model.field(field_name)
            ids = self.linkable(spec.to or "")  # type: ignore[union-attr]
            return ids is None or session.execute(ids.where(ids.selected_columns[0] == value)).first() is not None
        return value in set(session.execute(self.warehouse_ids()).scalars())
