"""The generic separation walk: every model x hidden field x role x channel, on SQLite and PostgreSQL (the
rendered channels, which format the same answers, on SQLite).

Two databases that differ only in values a role may not see (its hidden kinds of figures, rows on another
side or outside its scope) must give that role identical answers on every channel: bodies, sums, sort
orders, counts and errors. The worlds are built in tests/separation_world.py, the channels listed in
tests/walk_channels.py (a new channel is one more entry there).
"""

from __future__ import annotations

from typing import Any

import pytest

from app.extensions import registry
from tests.separation_world import COMPARED, WALKED_BEFORE, Built, browser, differing, login, worlds
from tests.walk_channels import CHANNELS, Visit, normal, observed, world_filter, writes

pytestmark = pytest.mark.slow


def world_rows(admin: Any, visit: Visit, models: list[Any]) -> dict[str, list[int]]:
    """Per model, the ids of the world's rows as the admin lists them (plus those the script made)."""
    import prison

    rows: dict[str, list[int]] = {}
    for model in models:
        flt = world_filter(model, visit)
        if flt is None:
            continue
        q = {"filters": [{"col": flt[0], "opr": flt[1], "value": flt[2]}], "page_size": 100}
        listed = admin.get(f"/api/v1/{model.key}/", query_string={"q": prison.dumps(q)}).get_json()
        rows[model.key] = sorted(set(listed["ids"]))
    return rows


def readable(built: Built, role: str) -> set[str]:
    """The models roles.yaml lets the role read."""
    with built.app.app_context():
        spec = registry().meta.roles[role]
        return {m for m in registry().meta.models if "read" in spec.grants(m)}


def visit(
    built: Built, role: str, tag: str, rows: dict[str, list[int]], models: list[Any], pages: bool = True
) -> Visit:
    """The role's clients in one world, walking the given models (a cookie session too when pages are read)."""
    web = browser(built.app, role) if pages else None
    one = Visit(role, login(built.app, role), web, tag, built.ids, built.numbers, built.cursor, models)
    one.readable, one.rows = readable(built, role), rows
    return one


def answers(one: Visit, channels: list[Any]) -> dict[str, tuple[int, Any]]:
    """Everything the role was answered, by label."""
    return {label: observed(response) for channel in channels for label, response in channel(one)}


def differences(a: dict[str, tuple[int, Any]], b: dict[str, tuple[int, Any]]) -> list[str]:
    """Labels answered differently, with a short excerpt of each answer."""
    return [f"{label}: {str(a[label])[:300]} <> {str(b.get(label))[:300]}" for label in a if a[label] != b.get(label)]


def test_each_role_is_answered_alike_where_only_what_it_may_not_see_differs(app, tmp_path):
    with worlds(app, tmp_path) as (tag, built):
        base = built["base"]
        with base.app.app_context():
            models = list(registry().meta.models.values())
        probe = Visit("admin", base.admin, None, tag, base.ids, base.numbers, base.cursor, models)
        rows = world_rows(base.admin, probe, models)
        for key, pk in base.ids.items():
            model = {
                "s1": "partner",
                "s2": "partner",
                "c1": "partner",
                "c2": "partner",
                "b1": "partner",
                "c3": "partner",
            }.get(key)
            if model and pk not in rows.setdefault(model, []):
                rows[model].append(pk)
        # the worlds really differ, as the admin sees them
        item = f"/api/v1/item/{base.ids['i1']}"
        seen = {name: normal(w.admin.get(item).get_json()["result"]) for name, w in built.items()}
        assert seen["base"]["purchase_price"] != seen["purchase"]["purchase_price"]
        assert seen["base"]["sale_price"] != seen["sale"]["sale_price"]

        # pages, prints and xlsx render what the data channels answer: walked on SQLite, the data on both
        rendered = app.config["JXC_BACKEND"] == "sqlite"
        found: list[str] = []
        served: dict[str, int] = {}
        walked: dict[str, list[Any]] = {}
        for role, other in COMPARED.items():
            names = differing(base, built[other])
            if role in WALKED_BEFORE:
                names -= {
                    m.key
                    for m in walked[WALKED_BEFORE[role]]
                    if m.permission_model in readable(base, WALKED_BEFORE[role])
                }
            walked[role] = [m for m in models if m.key in names]
            mine = answers(visit(base, role, tag, rows, walked[role], pages=rendered), CHANNELS)
            theirs = answers(visit(built[other], role, tag, rows, walked[role], pages=rendered), CHANNELS)
            served[role] = sum(1 for status, _ in mine.values() if status == 200)
            found += [f"{role} ({other}) {d}" for d in differences(mine, theirs)]
        written: dict[str, dict[str, dict[str, tuple[int, Any]]]] = {name: {} for name in built}
        for role in COMPARED:  # the same writes in the same order in every world: created rows share ids
            for name, world in built.items():
                written[name][role] = answers(visit(world, role, tag, rows, [], pages=False), [writes])
        for role, other in COMPARED.items():
            found += [f"{role} ({other}) {d}" for d in differences(written["base"][role], written[other][role])]
        assert found == []
        assert all(count > 40 for count in served.values()), served  # the walk read a lot, not 403s only
