"""Register the generated APIs, pages and menus of every model with FAB (once, at start-up)."""

from __future__ import annotations

from flask_appbuilder import AppBuilder

from app.api.accounts_api import AccountsApi
from app.api.meta_api import AuditApi, MetaApi, SettingsApi
from app.api.model_api import api_class_for
from app.api.reorder_api import ReorderApi
from app.meta.registry import Registry
from app.views.admin import AuditView, FieldsAdminView, SettingsView, UserWarehousesView
from app.views.home import ReorderView
from app.views.labels import LazyLabel
from app.views.pages import pages_class_for

SYSTEM_MENU = ("system", {"zh": "系统", "en": "System"})


def register_everything(appbuilder: AppBuilder, registry: Registry) -> None:
    """APIs and pages for every model, the menu from menus.yaml, and the admin pages."""
    for model in registry.meta.models.values():
        appbuilder.add_api(api_class_for(model))
        appbuilder.add_view_no_menu(pages_class_for(model))
    for menu in registry.meta.menus:
        for key in menu.models:
            model = registry.model(key)
            appbuilder.add_link(
                name=key,
                href=f"/m/{key}/",
                label=LazyLabel(model.label, key),
                category=menu.key,
                category_label=LazyLabel(menu.label, menu.key),
            )
    appbuilder.add_api(MetaApi)
    appbuilder.add_api(AuditApi)
    appbuilder.add_api(SettingsApi)
    appbuilder.add_api(ReorderApi)
    appbuilder.add_api(AccountsApi)
    appbuilder.add_view_no_menu(FieldsAdminView)
    appbuilder.add_view_no_menu(AuditView)
    appbuilder.add_view_no_menu(UserWarehousesView)
    appbuilder.add_view_no_menu(SettingsView)
    appbuilder.add_view_no_menu(ReorderView)
    key, texts = SYSTEM_MENU
    appbuilder.add_link(
        name="fields_admin",
        href="/admin/fields/",
        label=LazyLabel({"zh": "字段管理", "en": "Fields"}),
        category=key,
        category_label=LazyLabel(texts),
    )
    appbuilder.add_link(
        name="audit_log",
        href="/admin/audit/",
        label=LazyLabel({"zh": "审计日志", "en": "Audit trail"}),
        category=key,
        category_label=LazyLabel(texts),
    )
    appbuilder.add_link(
        name="settings",
        href="/admin/settings/",
        label=LazyLabel({"zh": "系统设置", "en": "Settings"}),
        category=key,
        category_label=LazyLabel(texts),
    )
    appbuilder.add_link(
        name="user_warehouses",
        href="/admin/user-warehouses/",
        label=LazyLabel({"zh": "用户仓库", "en": "User warehouses"}),
        category=key,
        category_label=LazyLabel(texts),
    )
