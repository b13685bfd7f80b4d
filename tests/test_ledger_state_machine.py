"""A hypothesis state machine drives receipts, deliveries, transfers, stocktakes and cancels through
the API and compares stock with a simple model after every step; the ledger invariants are checked
after every step too (both databases)."""

from __future__ import annotations

from decimal import Decimal as D

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tests.ledger_helpers import balance, document, ledger_problems, new_item

WAREHOUSES = ("WH01", "WH02")
QTY = st.integers(min_value=1, max_value=6).map(D)
COST = st.sampled_from([D("1.25"), D("2"), D("19.99"), D("0.3333")])


def run_machine(app, api) -> None:
    """Run the machine against one app (one database)."""

    class LedgerMachine(RuleBasedStateMachine):
        """Model: quantity per (item, warehouse); posted documents that may be cancelled."""

        @initialize()
        def setup(self):
            self.items = [new_item(api) for _ in range(2)]
            self.stock = {(i, w): D(0) for i in self.items for w in WAREHOUSES}
            self.posted: list[tuple[str, int, dict]] = []
            self.touched: dict[tuple[str, str], bool] = {}

        def _submit(self, model, lines, **header):
            doc = document(api, model, lines, **header)
            return doc["id"], api.post(f"/api/v1/{model}/{doc['id']}/submit")

        @rule(i=st.integers(0, 1), w=st.sampled_from(WAREHOUSES), qty=QTY, cost=COST)
        def receive(self, i, w, qty, cost):
            pk, response = self._submit(
                "purchase_receipt", [{"item": self.items[i], "qty": str(qty), "price": str(cost)}], warehouse=w
            )
            assert response.status_code == 200, response.get_json()
            self.stock[(self.items[i], w)] += qty
            self.touched[(self.items[i], w)] = True
            self.posted.append(("purchase_receipt", pk, {(self.items[i], w): qty}))

        @rule(i=st.integers(0, 1), w=st.sampled_from(WAREHOUSES), qty=QTY)
        def deliver(self, i, w, qty):
            key = (self.items[i], w)
            pk, response = self._submit(
                "sales_delivery", [{"item": key[0], "qty": str(qty), "price": "9"}], warehouse=w
            )
            if self.stock[key] >= qty:
                assert response.status_code == 200, response.get_json()
                self.stock[key] -= qty
                self.touched[key] = True
                self.posted.append(("sales_delivery", pk, {key: -qty}))
            else:
                assert response.status_code == 422, response.get_json()

        @rule(i=st.integers(0, 1), qty=QTY, forward=st.booleans())
        def transfer(self, i, qty, forward):
            source, target = WAREHOUSES if forward else WAREHOUSES[::-1]
            item = self.items[i]
            pk, response = self._submit(
                "stock_transfer", [{"item": item, "qty": str(qty)}], from_warehouse=source, to_warehouse=target
            )
            if self.stock[(item, source)] >= qty:
                assert response.status_code == 200, response.get_json()
                self.stock[(item, source)] -= qty
                self.stock[(item, target)] += qty
                self.touched[(item, source)] = self.touched[(item, target)] = True
                self.posted.append(("stock_transfer", pk, {(item, source): -qty, (item, target): qty}))
            else:
                assert response.status_code == 422

        @rule(i=st.integers(0, 1), w=st.sampled_from(WAREHOUSES), counted=st.integers(0, 8).map(D))
        def stocktake(self, i, w, counted):
            key = (self.items[i], w)
            pk, response = self._submit("stocktake", [{"item": key[0], "counted_qty": str(counted)}], warehouse=w)
            assert response.status_code == 200, response.get_json()
            self.posted.append(("stocktake", pk, {key: counted - self.stock[key]}))
            if counted != self.stock[key]:
                self.touched[key] = True
            self.stock[key] = counted

        @rule(i=st.integers(0, 1), w=st.sampled_from(WAREHOUSES))
        def backdate(self, i, w):
            key = (self.items[i], w)
            pk, response = self._submit(
                "purchase_receipt", [{"item": key[0], "qty": "1", "price": "1"}], warehouse=w, date="2026-11-01"
            )
            if self.touched.get(key):
                assert response.status_code == 422 and "date" in response.get_json()["message"]
            else:  # nothing posted yet for this stock: an earlier date is fine
                assert response.status_code == 200, response.get_json()
                self.stock[key] += 1
                self.posted.append(("purchase_receipt", pk, {key: D(1)}))

        @precondition(lambda self: self.posted)
        @rule(pick=st.integers(0, 1000))
        def cancel(self, pick):
            model, pk, deltas = self.posted[pick % len(self.posted)]
            response = api.post(f"/api/v1/{model}/{pk}/cancel")
            if all(self.stock[key] - delta >= 0 for key, delta in deltas.items()):
                assert response.status_code == 200, response.get_json()
                for key, delta in deltas.items():
                    self.stock[key] -= delta
                self.posted.remove((model, pk, deltas))
            else:
                assert response.status_code == 422, response.get_json()

        @invariant()
        def stock_matches_the_model(self):
            for (item, warehouse), qty in self.stock.items():
                assert balance(app, item, warehouse)[0] == qty

        @invariant()
        def ledger_is_consistent(self):
            assert ledger_problems(app) == []

    LedgerMachine.TestCase.settings = settings(
        max_examples=8,
        stateful_step_count=12,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    LedgerMachine.TestCase().runTest()


def test_ledger_state_machine(app, admin_api):
    run_machine(app, admin_api)
