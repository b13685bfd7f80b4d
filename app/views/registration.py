"""Register the generated APIs, pages and menus of every model with FAB (once, at start-up)."""

from __future__ import annotations

from flask_appbuilder import AppBuilder

from app.api.accounts_api import AccountsApi
from app.api.cash_api import CashApi
from app.api.grid_api import GridApi
from app.api.meta_api import AuditApi, MetaApi, SettingsApi
from app.api.model_api import api_class_for
from app.api.reorder_api import ReorderApi
from app.api.tracking_api import BatchesApi, SerialsApi
from app.meta.registry import Registry
from app.services.access.roles_sync import FEATURE_LINKS
from app.views.admin import AccountsView, AuditView, CashView, FieldsAdminView, SettingsView, UserWarehousesView
from app.views.grid import GridView
from app.views.home import ReorderView
from app.views.labels import LazyLabel
from app.views.pages import pages_class_for

SYSTEM_MENU = ("system", {"zh": "系统", "en": "System"})
SYSTEM_LINKS = (
    ("fields_admin", "/admin/fields/", {"zh": "字段管理", "en": "Fields"}),
    ("audit_log", "/admin/audit/", {"zh": "审计日志", "en": "Audit trail"}),
    ("settings", "/admin/settings/", {"zh": "系统设置", "en": "Settings"}),
    ("user_warehouses", "/admin/user-warehouses/", {"zh": "用户仓库与部门", "en": "User warehouses and departments"}),
)
PLATFORM_APIS = (MetaApi, AuditApi, SettingsApi, ReorderApi, AccountsApi, CashApi, GridApi, SerialsApi, BatchesApi)
PLATFORM_VIEWS = (
    FieldsAdminView,
    AuditView,
    UserWarehousesView,
    SettingsView,
    ReorderView,
    AccountsView,
    CashView,
    GridView,
)


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
    menus = {menu.key: menu for menu in registry.meta.menus}
    for name, href, texts, menu_key, _model in FEATURE_LINKS:
        appbuilder.add_link(
            name=name,
            href=href,
            label=LazyLabel(texts),
            category=menu_key,
            category_label=LazyLabel(menus[menu_key].label, menu_key),
        )
    for api in PLATFORM_APIS:
        appbuilder.add_api(api)
    for view in PLATFORM_VIEWS:
        appbuilder.add_view_no_menu(view)
    category, category_texts = SYSTEM_MENU
    for name, href, texts in SYSTEM_LINKS:
        appbuilder.add_link(
            name=name,
            href=href,
            label=LazyLabel(texts),
            category=category,
            category_label=LazyLabel(category_texts),
        )
