"""The database out of reach: 503 everywhere (JSON on the API, a Chinese page with the menu), and the app
answers again once the database is back, without a restart."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator

import psycopg

from app.extensions import db
from tests.conftest import PG_URL

CJK = re.compile(r"[\u4e00-\u9fff]")


@contextlib.contextmanager
def database_down(app) -> Iterator[None]:
    """PostgreSQL: the database refuses connections and its sessions are ended. SQLite: its folder is gone."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        folder = os.path.dirname(url.split("///", 1)[1])
        with app.app_context():
            db.engine.dispose()
        os.rename(folder, folder + ".away")
        try:
            yield
        finally:
            os.rename(folder + ".away", folder)
        return
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        try:
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def test_database_down_is_503_everywhere_and_the_app_recovers_without_a_restart(app, admin_api, login_as):
    browser = login_as("clerk")
    assert admin_api.get("/api/v1/item/?q=(page_size:1)").status_code == 200
    with database_down(app):
        for url in ("/api/v1/item/?q=(page_size:1)", "/api/v1/item/1", "/api/v1/grid/item/rows", "/api/v1/jobs/"):
            response = admin_api.get(url)
            assert response.status_code == 503, (url, response.status_code, response.get_data(as_text=True)[:200])
            assert CJK.search(response.get_json()["message"])
        saved = admin_api.post("/api/v1/unit/", json={"code": "DOWN", "name": "停机"})
        assert saved.status_code == 503
        for url in ("/", "/grid/item", "/m/item/"):
            page = browser.get(url)
            html = page.get_data(as_text=True)
            assert page.status_code == 503, (url, page.status_code, html[:300])
            assert 'id="jxc-unavailable"' in html and "数据库暂时无法连接" in html
            assert 'id="jxc-unavailable-menu"' in html and "商品" in html  # the app's menu, in Chinese
    assert admin_api.get("/api/v1/item/?q=(page_size:1)").status_code == 200
    assert browser.get("/").status_code == 200
    assert admin_api.get("/api/v1/unit/?q=(filters:!((col:code,opr:eq,value:DOWN)))").get_json()["count"] == 0
