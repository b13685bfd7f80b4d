"""Register the generated APIs, pages and menus of every model with FAB (once, at start-up)."""

from __future__ import annotations

from flask_appbuilder import AppBuilder

from app.api.accounts_api import AccountsApi
from app.api.cash_api import CashApi
from app.api.collab_api import CollabApi, ComplaintsApi
from app.api.grid_api import GridApi
from app.api.imports_api import ImportsApi
from app.api.inbox_api import InboxApi
from app.api.jobs_api import JobsApi
from app.api.meta_api import AuditApi, MetaApi, SettingsApi
from app.api.model_api import api_class_for
from app.api.notifications_api import NotificationsApi
from app.api.phone_api import PhoneApi
from app.api.reorder_api import ReorderApi
from app.api.reports_api import ReportsApi
from app.api.schedules_api import SchedulesApi
from app.api.stocktake_api import StocktakeCountsApi
from app.api.tracking_api import LotsApi, SerialsApi
from app.meta.registry import Registry
from app.views.admin import AccountsView, AuditView, CashView, FieldsAdminView, SettingsView, UserWarehousesView
from app.views.backups import BackupsView
from app.views.collab import MineView
from app.views.grid import GridView
from app.views.home import ReorderView
from app.views.imports import ImportsView
from app.views.inbox import InboxView
from app.views.jobs import JobsView
from app.views.labels import LazyLabel
from app.views.notifications import NotificationsView
from app.views.pages import pages_class_for
from app.views.phone import PhoneView
from app.views.reports import ReportsView
from app.views.schedules import SchedulesView

PLATFORM_APIS = (
    MetaApi,
    AuditApi,
    SettingsApi,
    ReorderApi,
    AccountsApi,
    CashApi,
    GridApi,
    SerialsApi,
    LotsApi,
    JobsApi,
    ImportsApi,
    ReportsApi,
    SchedulesApi,
    NotificationsApi,
    InboxApi,
    PhoneApi,
    StocktakeCountsApi,
    CollabApi,
    ComplaintsApi,
)
PLATFORM_VIEWS = (
    FieldsAdminView,
    AuditView,
    UserWarehousesView,
    SettingsView,
    ReorderView,
    AccountsView,
    CashView,
    GridView,
    JobsView,
    ImportsView,
    BackupsView,
    ReportsView,
    SchedulesView,
    PhoneView,
    InboxView,
    MineView,
    NotificationsView,
)


def register_everything(appbuilder: AppBuilder, registry: Registry) -> None:
    """APIs and pages for every model, the menu from menus.yaml, and the admin pages."""
    for model in registry.meta.models.values():
        appbuilder.add_api(api_class_for(registry, model))
        appbuilder.add_view_no_menu(pages_class_for(model))
    for menu in registry.meta.menus:
        category_label = LazyLabel(menu.label, menu.key)
        for key in menu.models:
            model = registry.model(key)
            appbuilder.add_link(
                name=key,
                href=f"/m/{key}/",
                label=LazyLabel(model.label, key),
                category=menu.key,
                category_label=category_label,
            )
        for link in menu.links:
            appbuilder.add_link(
                name=link.key,
                href=link.href,
                label=LazyLabel(link.label, link.key),
                category=menu.key,
                category_label=category_label,
            )
    for api in PLATFORM_APIS:
        appbuilder.add_api(api)
    for view in PLATFORM_VIEWS:
        appbuilder.add_view_no_menu(view)
