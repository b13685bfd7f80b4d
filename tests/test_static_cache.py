"""Static files the browser keeps: url_for() names each with its content's hash, the versioned address is
cacheable for a year, a stale or missing hash is revalidated as before; the grid page asks for its first rows
from a script first in its head (jxc/grid/early.js), not after Tabulator and the other scripts."""

import re
from typing import Any


def headers_of(client: Any, url: str) -> Any:
    """The answer to GET url, its file closed (the static view streams it)."""
    response = client.get(url)
    response.close()
    return response


def test_versioned_static_file_is_kept_a_year(app, login_as):
    client = login_as("admin")
    html = client.get("/grid/item/").get_data(as_text=True)
    found = re.search(r'src="(/static/jxc/grid/main\.js\?v=([0-9a-f]{12}))"', html)
    assert found, html[:2000]
    kept = headers_of(client, found.group(1))
    assert kept.status_code == 200
    assert kept.cache_control.max_age == 365 * 24 * 3600 and kept.cache_control.immutable
    stale = headers_of(client, "/static/jxc/grid/main.js?v=000000000000")
    assert stale.status_code == 200 and not stale.cache_control.max_age and not stale.cache_control.immutable
    plain = headers_of(client, "/static/jxc/grid/main.js")
    assert not plain.cache_control.max_age
    fab = re.search(r'src="(/static/appbuilder/js/jquery-latest\.js\?v=[0-9a-f]{12})"', html)
    assert fab and headers_of(client, fab.group(1)).cache_control.max_age == 365 * 24 * 3600


def test_fonts_named_from_style_sheets_are_kept_a_day(app):
    font = headers_of(app.test_client(), "/static/appbuilder/css/webfonts/fa-solid-900.woff2")
    assert font.status_code == 200 and font.cache_control.max_age == 24 * 3600 and not font.cache_control.immutable


def test_grid_page_asks_for_rows_before_tabulator_loads(app, login_as):
    html = login_as("admin").get("/grid/item/").get_data(as_text=True)
    early = html.index("jxc/grid/early.js")
    assert html.index("jxc/grid/helpers.js") < early < html.index("bootstrap.min.css") < html.index("tabulator.min.js")
    assert 'data-rows="/api/v1/grid/item/rows" data-size="100"' in html
    assert "ab.js" not in html and "select2.min.js" not in html  # FAB's form scripts are not on the grid page


def test_templates_addresses_are_url_for_s_and_follow_a_changed_file(app):
    """Templates' url_for keeps a static file's address (app/web/static_cache.py, static_url): the same address
    url_for builds, a new one as soon as the file changes on disk, and anything else left to url_for."""
    import os
    import uuid

    from flask import url_for

    from app.web.static_cache import static_url

    name = f"jxc/kept-{uuid.uuid4().hex[:8]}.css"
    path = os.path.join(app.static_folder, name)
    with app.test_request_context("/grid/item/"):
        assert app.jinja_env.globals["url_for"] is static_url
        for endpoint, filename in (("static", "jxc/jxc.css"), ("appbuilder.static", "css/bootstrap.min.css")):
            assert static_url(endpoint, filename=filename) == url_for(endpoint, filename=filename)
            assert static_url(endpoint, filename=filename) == url_for(endpoint, filename=filename)  # kept
        assert static_url("NotificationsView.open", pk=3) == url_for("NotificationsView.open", pk=3)
        assert static_url("static", filename="jxc/none.css") == url_for("static", filename="jxc/none.css")
        try:
            with open(path, "w") as f:
                f.write("a{}")
            first = static_url("static", filename=name)
            assert static_url("static", filename=name) == first == url_for("static", filename=name)
            with open(path, "w") as f:
                f.write("b{color:red}")
            changed = static_url("static", filename=name)
            assert changed != first and changed == url_for("static", filename=name)
        finally:
            os.remove(path)
        assert static_url("static", filename=name) == url_for("static", filename=name)  # gone: url_for's own
