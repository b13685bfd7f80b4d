"""Who may do what: actions per model (FAB permissions), field masks and row scope (roles.yaml).

Every channel (REST, forms, grid, imports, exports, reports, jobs) asks this module; nothing else
decides access.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import false, or_, select
from sqlalchemy.sql import ColumnElement

from app.errors import Forbidden
from app.i18n import t
from app.meta.registry import Registry
from app.meta.spec import FieldSpec, ModelSpec, RoleSpec
from app.services.access.tables import user_department, user_warehouse

ADMIN_ROLE = "admin"
OWN, DEPARTMENT, ALL = "own", "department", "all"  # how far a role's "me" row scope reaches


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
    permissions: set[tuple[str, str]] = field(default_factory=set)
    price_blind: bool = False  # 价格屏蔽: every role of the user is in hide_prices_from_roles
    # how far a role's "me" row scope reaches (settings department_scope_roles / all_scope_roles)
    scope_levels: dict[str, str] = field(default_factory=dict)

    @property
    def is_admin(self) -> bool:
        """Admins see and do everything."""
        return ADMIN_ROLE in self.role_names

    @property
    def roles(self) -> list[RoleSpec]:
        """The user's roles that roles.yaml knows."""
        return [self.registry.meta.roles[r] for r in self.role_names if r in self.registry.meta.roles]

    def can(self, model_key: str, action: str) -> bool:
        """May the user do `action` on `model_key`?"""
        if self.is_admin:
            return True
        model = self.registry.model(model_key)
        return (f"can_{action}", permission_resource(model)) in self.permissions

    def require(self, model_key: str, action: str) -> None:
        """Raise Forbidden unless the user may do `action` on `model_key`."""
        if not self.can(model_key, action):
            raise Forbidden(t("forbidden"))

    def can_see(self, model: ModelSpec, spec: FieldSpec) -> bool:
        """Is the field visible to the user (not hidden by any of their roles' masks)?"""
        if spec.hidden:
            return False
        if self.is_admin:
            return True
        if self.price_blind and spec.type == "money":
            return False
        if spec.read_roles and not set(spec.read_roles) & set(self.role_names):
            return False
        roles = self.roles
        return any(spec.name not in role.hidden_fields.get(model.key, ()) for role in roles)

    def can_write(self, model: ModelSpec, spec: FieldSpec) -> bool:
        """May the user set the field through a payload?"""
        if spec.readonly or spec.system or model.kind == "ledger" or not self.can_see(model, spec):
            return False
        if self.is_admin:
            return True
        if spec.write_roles and not set(spec.write_roles) & set(self.role_names):
            return False
        return any(spec.name not in role.readonly_fields.get(model.key, ()) for role in self.roles)

    def visible_fields(self, model: ModelSpec) -> list[FieldSpec]:
        """Fields the user may read, in display order."""
        return [spec for spec in model.fields if self.can_see(model, spec)]

    def warehouse_ids(self) -> Any:
        """SQL for the warehouses assigned to the user."""
        return select(user_warehouse.c.warehouse_id).where(user_warehouse.c.user_id == self.user_id)

    def department_user_ids(self) -> Any:
        """SQL for the users of the user's department (none when the user has no department)."""
        department = self.registry.cls("department")
        mine = (
            select(user_department.c.department_id)
            .join(department, department.id == user_department.c.department_id)  # a department that exists
            .where(user_department.c.user_id == self.user_id)
        )
        return select(user_department.c.user_id).where(user_department.c.department_id.in_(mine))

    def scope(self, model: ModelSpec) -> ColumnElement[bool] | None:
        """Row filter for the model, or None when the user sees every row."""
        if self.is_admin:
            return None
        cls = self.registry.cls(model.key)
        if model.is_line:
            parent = self.registry.model(model.parent or "")
            parent_scope = self.scope(parent)
            if parent_scope is None:
                return None
            parent_cls = self.registry.cls(parent.key)
            return cls.parent_id.in_(select(parent_cls.id).where(parent_scope))
        roles = self.roles
        if not roles:
            return false()
        conditions: list[ColumnElement[bool]] = []
        for role in roles:
            rule = role.row_scope.get(model.key)
            level = self.scope_levels.get(role.key, OWN)
            if not rule or (level == ALL and "me" in rule.values()):
                return None
            for field_name, token in rule.items():
                column = getattr(cls, model.field(field_name).column)  # type: ignore[union-attr]
                if token == "me" and level == DEPARTMENT:
                    conditions.append(or_(column == self.user_id, column.in_(self.department_user_ids())))
                elif token == "me":
                    conditions.append(column == self.user_id)
                else:
                    conditions.append(column.in_(self.warehouse_ids()))
        return or_(*conditions)
