"""Correct stock under load: real gunicorn servers, many connections at once, SQLite and PostgreSQL."""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from tests.conftest import PG_URL
from tests.ledger_helpers import ledger_problems
from tests.servers import HttpApi, jxc_init, jxc_servers

pytestmark = pytest.mark.slow  # run early: see tests/conftest.py

ROUNDS = {"postgresql": 15, "sqlite": 5}  # 300 racing deliveries on PostgreSQL; more belongs in a benchmark
SELLERS = 20
CUSTOMER = "CONC01"  # a customer without a credit limit: the demo's have one, and every delivery counts
GUNICORN = {"GUNICORN_CMD_ARGS": "--threads 6"}


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def served(request, tmp_path_factory):
    """Two server processes (6 threads each) on a fresh database, and an in-process app to check it."""
    instance: Path = tmp_path_factory.mktemp(f"conc-{request.param}")
    name = f"jxc_conc_{uuid.uuid4().hex[:8]}"
    if request.param == "postgresql":
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    else:
        url = f"sqlite:///{instance / 'jxc.db'}"
    jxc_init(url, instance, demo=True, log_name=f"init-{name}")
    from app import create_app

    checker = create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "servers-test-secret-key-0123456789abcdef0123456789",
        }
    )
    with jxc_servers(url, instance, [f"{name}-a", f"{name}-b"], GUNICORN) as servers:
        apis = [HttpApi(s.url) for s in servers]
        status, body = apis[0].post("/api/v1/partner/", {"code": CUSTOMER, "name": "并发测试客户", "kind": "customer"})
        assert status == 201, body
        yield request.param, apis, checker
    with checker.app_context():
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()
    if request.param == "postgresql":
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _item(api: HttpApi, costing: str = "moving_average") -> str:
    sku = f"C{uuid.uuid4().hex[:8].upper()}"
    status, body = api.post("/api/v1/item/", {"sku": sku, "name": f"并发 {sku}", "unit": "PCS", "costing": costing})
    assert status == 201, body
    return sku


def _draft(api: HttpApi, model: str, lines: list[dict], **header) -> int:
    partner = "S001" if model.startswith("purchase") else CUSTOMER
    body = {"date": "2026-11-25", "partner": partner, "warehouse": "WH01", "lines": lines}
    status, body = api.post(f"/api/v1/{model}/", {**body, **header})
    assert status == 201, body
    return body["id"]


def test_many_connections_never_oversell_the_last_units(served):
    backend, apis, checker = served
    outcomes: Counter[int] = Counter()
    for round_no in range(ROUNDS[backend]):
        api = apis[0]
        sku = _item(api, "fifo" if round_no % 2 else "moving_average")
        receipt = _draft(api, "purchase_receipt", [{"item": sku, "qty": "5", "price": "9.99"}])
        assert api.post(f"/api/v1/purchase_receipt/{receipt}/submit", {})[0] == 200
        drafts = [_draft(api, "sales_delivery", [{"item": sku, "qty": "1", "price": "20"}]) for _ in range(SELLERS)]
        with ThreadPoolExecutor(SELLERS) as pool:
            statuses = list(
                pool.map(
                    lambda pair: apis[pair[0] % len(apis)].post(f"/api/v1/sales_delivery/{pair[1]}/submit", {})[0],
                    enumerate(drafts),
                )
            )
        outcomes.update(statuses)
        assert statuses.count(200) == 5, statuses
        assert set(statuses) <= {200, 409, 422}, statuses
        status, body = api.get(f"/api/v1/stock_balance/?q=(filters:!((col:item,opr:eq,value:'{sku}')))")
        assert status == 200 and body["result"][0]["qty"] == "0", body
    assert 500 not in outcomes
    assert ledger_problems(checker) == []


def test_one_document_submitted_from_two_sessions_posts_once(served):
    backend, apis, checker = served
    api = apis[0]
    sku = _item(api)
    docs = [_draft(api, "purchase_receipt", [{"item": sku, "qty": "1", "price": "1"}]) for _ in range(10)]
    with ThreadPoolExecutor(20) as pool:
        statuses = list(
            pool.map(
                lambda job: apis[job[0]].post(f"/api/v1/purchase_receipt/{job[1]}/submit", {})[0],
                [(side, doc) for doc in docs for side in (0, 1)],
            )
        )
    assert sorted(Counter(statuses).items()) == [(200, 10), (409, 10)], statuses
    status, body = api.get(f"/api/v1/stock_balance/?q=(filters:!((col:item,opr:eq,value:'{sku}')))")
    assert Decimal(body["result"][0]["qty"]) == 10
    assert ledger_problems(checker) == []


def test_multi_line_documents_in_random_order_never_deadlock(served):
    backend, apis, checker = served
    api = apis[0]
    skus = [_item(api, "fifo" if i % 2 else "moving_average") for i in range(5)]
    seed = _draft(api, "purchase_receipt", [{"item": s, "qty": "100", "price": "2"} for s in skus])
    assert api.post(f"/api/v1/purchase_receipt/{seed}/submit", {})[0] == 200
    rng = random.Random(7)
    jobs = []
    for index in range(16):
        order = skus[:]
        rng.shuffle(order)
        model = "sales_delivery" if index % 2 else "purchase_receipt"
        jobs.append((model, _draft(api, model, [{"item": s, "qty": "1", "price": "3"} for s in order])))
    submit_all_at_once(backend, apis, checker, jobs, threads=16)


def test_receipts_and_deliveries_of_one_item_at_once_never_deadlock(served):
    """Receipts update the item's cost price while other postings hold its tracking flags (KEY SHARE)."""
    backend, apis, checker = served
    api = apis[0]
    sku = _item(api)
    seed = _draft(api, "purchase_receipt", [{"item": sku, "qty": "100", "price": "2"}])
    assert api.post(f"/api/v1/purchase_receipt/{seed}/submit", {})[0] == 200
    jobs = []
    for index in range(24):
        model = "sales_delivery" if index % 2 else "purchase_receipt"
        jobs.append((model, _draft(api, model, [{"item": sku, "qty": "1", "price": "3"}])))
    submit_all_at_once(backend, apis, checker, jobs, threads=12)


def test_deliveries_to_one_customer_at_once_never_pass_the_credit_limit_together(served):
    """Twelve deliveries of 20.00 at once against a limit of 100.00: exactly five post."""
    backend, apis, checker = served
    api = apis[0]
    code = f"CR{uuid.uuid4().hex[:6].upper()}"
    customer = {"code": code, "name": "信用并发客户", "kind": "customer", "credit_limit": "100"}
    assert api.post("/api/v1/partner/", customer)[0] == 201
    sku = _item(api)
    seed = _draft(api, "purchase_receipt", [{"item": sku, "qty": "100", "price": "2"}])
    assert api.post(f"/api/v1/purchase_receipt/{seed}/submit", {})[0] == 200
    drafts = [
        _draft(api, "sales_delivery", [{"item": sku, "qty": "1", "price": "20"}], partner=code) for _ in range(12)
    ]
    with ThreadPoolExecutor(12) as pool:
        statuses = list(
            pool.map(
                lambda job: apis[job[0] % 2].post(f"/api/v1/sales_delivery/{job[1]}/submit", {})[0], enumerate(drafts)
            )
        )
    assert sorted(Counter(statuses).items()) == [(200, 5), (422, 7)], statuses
    assert ledger_problems(checker) == []


def submit_all_at_once(backend, apis, checker, jobs, threads) -> None:
    """Submit (model, id) drafts from `threads` clients over both servers: every one posts, no deadlock
    was even retried behind the users' backs (locks are taken in one order), the ledger holds."""
    before = deadlocks(checker, backend)
    with ThreadPoolExecutor(threads) as pool:
        statuses = list(pool.map(lambda job: apis[job[1] % 2].post(f"/api/v1/{job[0]}/{job[1]}/submit", {})[0], jobs))
    assert statuses == [200] * len(jobs), statuses
    assert deadlocks(checker, backend, settle=True) == before
    assert ledger_problems(checker) == []


def deadlocks(checker, backend, settle=False) -> int:
    """PostgreSQL's count of deadlocks in this database so far (0 on SQLite, which has no row locks).

    Backends report their counts when idle, at most once a second: `settle` waits for that."""
    if backend != "postgresql":
        return 0
    if settle:
        time.sleep(1.5)
    with checker.app_context():
        from sqlalchemy import text

        from app.extensions import db

        with db.engine.connect() as conn:
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            query = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
            return int(conn.execute(text(query)).scalar() or 0)
