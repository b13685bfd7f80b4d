"""What the kept answers and the kept grid statements give each reader is what would be built for that reader
alone, for EVERY role of metadata/roles.yaml, every model it may read and both languages, on SQLite and
PostgreSQL. A rule about what a cache may share, written as a list, leaks at the next role, field or channel
someone adds: these tests name none of them, they walk the metadata.

- `kept_answer` (`/meta/models`, each model's `_info`, the reports list): each reader's answer equals what the
  builder makes from that reader's own full Access (not the rights-only one the cache builds from), asked right
  after readers with other rights asked for the same thing (their answers are kept beside it).
- `page_statements` (the grid's views): a page read after the admin's has warmed the shared statements equals,
  in every row and value, its count and sums, the same view read with a filter that matches every row (kept
  per set of rights, never the admin's), and shows no field the reader may not see nor a row outside their
  scope (id and the business key, both ways, over HTTP); and for every field a reader may sort on, both ways,
  and for filtered and searched views (a filter on each link field they see, a search), the statements they
  read with are the SQL and values built for them alone.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from conftest import PASSWORD, Api, unique

if TYPE_CHECKING:
    from app.services.grid.rows import View

LANGUAGES = {"zh": "zh-CN,zh;q=0.9", "en": "en-US,en;q=0.9"}
# the same view, through a filter no row fails: statements kept per set of rights, never the admin's
EVERY_ROW = {"filter[0][field]": "id", "filter[0][type]": ">=", "filter[0][value]": "0"}
PAGE = 20
ROW_KEYS = {"id", "version", "_readonly"}  # what the grid adds to a row's fields
TWO_ROLES = "two roles"  # a reader with two roles: the union of their rights


def cookieless(app: Any, username: str) -> Api:
    """The user's API client without cookies: each call's language is its Accept-Language alone."""
    api = Api(app, username)
    api.client = app.test_client(use_cookies=False)
    return api


@pytest.fixture(scope="module")
def readers(app: Any) -> dict[str, Api]:
    """One reader per role of roles.yaml (the demo users: the salesperson owns partners, the warehouse keeper has
    a warehouse, so row scopes select some rows, not none), and one with two roles (the union of their rights)."""
    from app.extensions import db, registry
    from app.services.users.accounts import create_user

    found: dict[str, Api] = {}
    with app.app_context():
        sm = app.appbuilder.sm
        roles = list(registry().meta.roles)
        for role in roles:
            username = "admin" if role == "admin" else f"u_{role}"
            if sm.find_user(username=username) is None:  # a role the demo users do not cover
                username = f"x_{unique(role).lower()}"
                create_user(username, role, PASSWORD)
            found[role] = username
        # two roles with row scopes or masks if there are (their union is the least obvious set of rights)
        plain = [r for r in roles if r != "admin"]
        narrow = [r for r in plain if registry().meta.roles[r].row_scope or registry().meta.roles[r].hidden_figures]
        pair = (narrow if len(narrow) >= 2 else plain)[:2]
        if len(pair) == 2:
            username = f"x_{unique('two').lower()}"
            create_user(username, pair[0], PASSWORD)
            user = sm.find_user(username=username)
            user.roles = [sm.find_role(role) for role in pair]
            db.session.commit()
            found[TWO_ROLES] = username
    return {name: cookieless(app, username) for name, username in found.items()}


def interleaved(readers: dict[str, Api]) -> list[str]:
    """admin, then each other reader with the admin between them, then the others backwards: each answer is
    asked right after another reader's (kept beside it, or under the same key if the key left something out)."""
    others = [name for name in readers if name != "admin"]
    order = ["admin"]
    for name in others:
        order += [name, "admin"]
    return order + others[::-1]


def own_access(app: Any, api: Api) -> Any:
    """The reader's own Access (their id, row scope levels and all), as a request of theirs computes it. Call
    inside an app context."""
    from app.services.users.access import access_for

    return access_for(app.appbuilder.sm.find_user(username=api.username))


def built_for(app: Any, api: Api, locale: str, builds: dict[str, Any]) -> dict[str, Any]:
    """What each of `builds` makes for the reader in `locale`, as JSON (the kept body's encoding, parsed), and
    the reader's rights key under "rights"."""
    from app.api.responses import json_bytes
    from app.i18n import use_locale

    with app.app_context(), use_locale(locale):
        access = own_access(app, api)
        made = {key: json.loads(json_bytes(build(access), sort_keys=True)) for key, build in builds.items()}
        return made | {"rights": access.rights_key}


def kept_keys(app: Any, kind: str) -> set[Any]:
    """The keys of the answers of `kind` the registry keeps now."""
    from app.extensions import registry

    with app.app_context():
        return set(registry().cache.get(("recent", kind), {}))


def answer(api: Api, url: str, locale: str) -> Any:
    response = api.get(url, headers={"Accept-Language": LANGUAGES[locale]})
    assert response.status_code == 200, (api.username, url, response.get_data(as_text=True)[:300])
    return response.get_json()


def test_kept_models_and_reports_lists_are_each_readers_own(app, readers):
    from app.api.meta_api import _models_answer
    from app.api.reports_api import _report_list

    for url, kind, build in (
        ("/api/v1/meta/models", "meta_models", _models_answer),
        ("/api/v1/reports/", "report_list", _report_list),
    ):
        seen: dict[tuple[str, str], Any] = {}
        for locale in LANGUAGES:
            for name in interleaved(readers):
                api = readers[name]
                got = answer(api, url, locale)
                built = built_for(app, api, locale, {url: build})
                assert got == built[url], (url, name, locale)
                assert (None, locale, built["rights"]) in kept_keys(app, kind)  # it was kept: the next is a hit
                seen.setdefault((name, locale), got)
                assert got == seen[(name, locale)], (url, name, locale)
        # the readers differ, and so do the languages: equal answers would not have told a leak
        assert len({json.dumps(seen[(name, "zh")], sort_keys=True) for name in readers}) > 1, url
        assert seen[("admin", "zh")] != seen[("admin", "en")], url


def test_kept_info_of_every_model_is_each_readers_own(app, readers):
    from app.api.model_api import _info_answer
    from app.extensions import registry

    with app.app_context():
        models = list(registry().meta.models)
    built = {
        (name, locale): built_for(app, api, locale, {m: functools.partial(_info_answer, m) for m in readable(app, api)})
        for name, api in readers.items()
        for locale in LANGUAGES
    }
    asked = 0
    for model in models:  # model by model: each reader's answer asked while the others' are kept beside it
        for locale in LANGUAGES:
            for name in interleaved(readers):
                if model not in built[(name, locale)]:
                    continue
                got = answer(readers[name], f"/api/v1/{model}/_info", locale)
                assert got == built[(name, locale)][model], (model, name, locale)
                assert (model, locale, built[(name, locale)]["rights"]) in kept_keys(app, "model_info")
                asked += 1
    assert asked >= len(models) * len(LANGUAGES)  # every model read by someone (the admin at least)


def readable(app: Any, api: Api) -> list[str]:
    """The models the reader may read."""
    from app.extensions import registry

    with app.app_context():
        access = own_access(app, api)
        return [key for key in registry().meta.models if access.can(key, "read")]


@dataclass(frozen=True)
class Sight:
    """What the reader may see of a model, read here with their own Access: the ids of its rows in their
    scope, its fields, and the fields they may sort its grid on (the business key first)."""

    ids: frozenset[int]
    fields: frozenset[str]
    sortable: tuple[str, ...]


def sights(app: Any, api: Api) -> dict[str, Sight]:
    """The reader's Sight of each model they may read."""
    from app.extensions import db, registry
    from app.meta.types import FIELD_TYPES
    from app.services.records.query import base_select

    found = {}
    with app.app_context():
        access = own_access(app, api)
        for key in readable(app, api):
            model, cls = registry().model(key), registry().cls(key)
            fields = [s for s in access.visible_fields(model) if s.type != "lines"]
            sortable = [s.name for s in fields if FIELD_TYPES[s.type].sortable]
            first = [model.business_key] if model.business_key in sortable else []
            found[key] = Sight(
                frozenset(db.session.execute(base_select(access, model).with_only_columns(cls.id)).scalars()),
                frozenset(s.name for s in fields),
                (*first, *(n for n in sortable if n not in first)),
            )
    return found


def kept_statements(app: Any, model: str, field: str, direction: str) -> bool:
    """Does the registry keep the page statements of this unfiltered view?"""
    from app.extensions import registry

    with app.app_context():
        return ("grid_page_statements", model, (field, direction)) in registry().cache


def grid_page(api: Api, model: str, **params: Any) -> dict[str, Any]:
    response = api.get(f"/api/v1/grid/{model}/rows", query_string=params)
    assert response.status_code == 200, (api.username, model, params, response.get_data(as_text=True)[:300])
    return response.get_json()


def sorts(sortable: tuple[str, ...]) -> list[tuple[str, str]]:
    """id and the business key, both ways: the pages read over HTTP (what a reader is shown of the same rows
    does not depend on the sort; that every other sort reads the reader's own SQL, the next test checks)."""
    return [(name, direction) for name in ("id", *sortable[:1]) for direction in ("asc", "desc")]


def role_names() -> list[str]:
    """The roles of metadata/roles.yaml, read at collection so each is a test of its own (both workers busy);
    the test checks they are the registry's roles."""
    path = Path(__file__).resolve().parent.parent / "metadata" / "roles.yaml"
    return list(yaml.safe_load(path.read_text(encoding="utf-8"))["roles"])


@pytest.mark.parametrize("name", [*role_names(), TWO_ROLES])
def test_kept_grid_pages_are_each_readers_own(app, readers, name):
    from app.extensions import registry

    with app.app_context():
        assert set(readers) - {TWO_ROLES} == set(registry().meta.roles)
    api, admin = readers[name], readers["admin"]
    admin_sights, own_sights = sights(app, admin), sights(app, api)
    checked = 0
    for model, sight in own_sights.items():
        for field, direction in sorts(sight.sortable):
            view = {"sort[0][field]": field, "sort[0][dir]": direction, "page": 1, "size": PAGE}
            where = (name, model, field, direction)
            if name != "admin" and not kept_statements(app, model, field, direction):
                assert field == "id" or field in admin_sights[model].sortable, where  # the admin sees every field
                first = grid_page(admin, model, **view)["data"]  # the admin's page keeps the view's statements
                assert kept_statements(app, model, field, direction), where
                if first:  # and its keyset statements
                    grid_page(admin, model, **dict(view, page=2, after=first[-1]["id"]))
            kept = grid_page(api, model, **view)
            assert kept == grid_page(api, model, **view, **EVERY_ROW), where
            assert {row["id"] for row in kept["data"]} <= sight.ids, where
            assert kept["last_row"] == len(sight.ids), where
            for row in kept["data"]:
                assert set(row) == sight.fields | ROW_KEYS, where
            assert set(kept["sums"]) <= sight.fields, where
            if len(kept["data"]) == PAGE:  # the next page by keyset
                after = dict(view, page=2, after=kept["data"][-1]["id"])
                assert grid_page(api, model, **after) == grid_page(api, model, **after, **EVERY_ROW), where
            checked += 1
    assert checked >= 4  # a reader of no model would have checked nothing


def same_statements(one: Any, other: Any) -> bool:
    """Do two views' page statements read the same SQL with the same values? (Each holds the view's SELECT,
    its ORDER BY and its count; the keyset page its sort column too.)"""
    return one.offset_page.compare(other.offset_page) and one.after_page.compare(other.after_page)


@pytest.mark.parametrize("name", [*role_names(), TWO_ROLES])
def test_kept_page_statements_are_the_readers_own_sql(app, readers, name):
    """Data cannot show every leak (a link the reader may not see sorts as the stored one when the demo's ids
    happen to run in the same order): the statements a reader's page is read with, after the admin's have been
    kept, are the SQL and values built for that reader alone, for every model they read, every field they may
    sort on, both ways."""
    from app.extensions import db, registry
    from app.services.grid.rows import View, page_statements

    with app.app_context():
        admin, access = own_access(app, readers["admin"]), own_access(app, readers[name])
        cache = registry().cache
        checked = 0
        for key, sight in sights(app, readers[name]).items():
            model = registry().model(key)
            for field in ("id", *sight.sortable):
                for direction in ("asc", "desc"):
                    view, kept_as = View(order=(field, direction)), ("grid_page_statements", key, (field, direction))
                    cache.pop(kept_as, None)
                    page_statements(db.session, admin, model, view)  # the admin's, kept
                    read_with = page_statements(db.session, access, model, view)
                    cache.pop(kept_as, None)  # what the reader's own request builds when nothing is kept
                    own = page_statements(db.session, access, model, view)
                    assert same_statements(read_with, own), (name, key, field, direction)
                    checked += 1
        assert checked >= 8


def filtered_views(app: Any, api: Api, model_key: str) -> list[View]:
    """Views of the model the reader may ask for: a search, and a filter naming a row by its key on each link
    field they see (the typed value a subquery of the statement), by the business key when they may sort on it."""
    from app.extensions import registry
    from app.services.grid.rows import View
    from app.services.records.query import Filter

    with app.app_context():
        access = own_access(app, api)
        model = registry().model(model_key)
        links = [s.name for s in access.visible_fields(model) if s.type in ("link", "user")]
    order = (model.business_key, "asc") if model.business_key != "id" else ("id", "desc")
    views = [View(search="1", order=order), View(filters=(Filter("id", "ge", "0"),), order=("id", "asc"))]
    return views + [View(filters=(Filter(name, "eq", "WH01"),), order=("id", "asc")) for name in links]


@pytest.mark.parametrize("name", [*role_names(), TWO_ROLES])
def test_kept_filtered_page_statements_are_the_readers_own_sql(app, readers, name):
    """A filtered or searched view's statements are kept per set of rights: read after the admin's and after
    another reader's, they are the SQL and values the reader's own request builds when nothing is kept."""
    from app.extensions import db, registry
    from app.services.grid.rows import View, page_statements
    from app.services.records.query import BadQuery, Filter

    with app.app_context():
        admin, access = own_access(app, readers["admin"]), own_access(app, readers[name])
        cache = registry().cache
        checked = 0
        for key in sights(app, readers[name]):
            model = registry().model(key)
            for view in filtered_views(app, readers[name], key):
                if view.order[0] != "id" and view.order[0] not in {s.name for s in access.visible_fields(model)}:
                    continue
                cache.pop(("recent", "grid_page_statements"), None)
                page_statements(db.session, admin, model, view)  # the admin's, kept under the admin's rights
                read_with = page_statements(db.session, access, model, view)
                cache.pop(("recent", "grid_page_statements"), None)
                own = page_statements(db.session, access, model, view)
                assert same_statements(read_with, own), (name, key, view)
                checked += 1
            for hidden in hidden_fields(admin, access, model):  # kept for the admin: refused to the reader
                view = View(filters=(Filter(hidden, "null", "false"),))
                page_statements(db.session, admin, model, view)
                with pytest.raises(BadQuery):
                    page_statements(db.session, access, model, view)
                checked += 1
        assert checked >= 8


def hidden_fields(admin: Any, access: Any, model: Any) -> list[str]:
    """The fields of the model the admin sees and the reader does not (not lines)."""
    own = {s.name for s in access.visible_fields(model)}
    return [s.name for s in admin.visible_fields(model) if s.name not in own and s.type != "lines"]
