"""A stocktake put in approvals.yaml by its 差异金额合计 waits for approval by that amount. The amount is the lines'
difference at the stock ledger's cost as they post: submitting posts it in a savepoint, through the one posting path,
and the chain reads what posting made (app/services/posting/service.py `_post_unless_waiting`). Before, the amount
was empty until posting, so no stocktake ever waited."""

from __future__ import annotations

import shutil
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from app.meta.loader import load_metadata
from tests.conftest import Api, another_instance
from tests.ledger_helpers import balance, document, new_item, receive

METADATA = Path(__file__).resolve().parent.parent / "metadata"
RULE = "stocktake:\n  amount_field: total_amount\n  levels:\n    - {above: 100, role: manager}\n"


def with_stocktake_rule(root: Path) -> Path:
    """metadata/ with a stocktake approved by a manager above 100.00 of 差异金额合计."""
    shutil.copytree(METADATA, root)
    approvals = root / "approvals.yaml"
    approvals.write_text(approvals.read_text(encoding="utf-8") + RULE, encoding="utf-8")
    return root


def test_the_loader_marks_a_rule_on_an_amount_posting_values(tmp_path: Path) -> None:
    meta, errors = load_metadata(with_stocktake_rule(tmp_path / "metadata"))
    assert errors == [] and meta.approvals["stocktake"].valued_at_posting
    assert not any(chain.valued_at_posting for key, chain in meta.approvals.items() if key != "stocktake")


def test_a_stocktake_waits_for_approval_by_its_difference_amount(app: Any, admin_api: Any, tmp_path: Path) -> None:
    """10 on hand at 7.50. Counted 4 (a loss of 45.00): under the band, it posts at once. Counted 100 (a gain of
    96 x 7.50 = 720.00): it waits for a manager with 720.00 on it, nothing posted; approved, it posts. Counted 0 (a
    loss of 750.00, compared by its size): it waits too."""
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "7.5")
    with another_instance(app, JXC_METADATA_DIR=str(with_stocktake_rule(tmp_path / "metadata"))) as started:
        keeper, manager = Api(started, "u_warehouse"), Api(started, "u_manager")

        def counted(qty: str) -> dict[str, Any]:
            line = {"item": sku, "counted_qty": qty, "reason": "damage"}
            return document(keeper, "stocktake", [line], warehouse="WH01")

        small = counted("4")
        posted = keeper.post(f"/api/v1/stocktake/{small['id']}/submit")
        assert posted.status_code == 200, posted.get_json()
        assert posted.get_json()["result"]["status"] == "submitted"
        assert balance(app, sku) == (D(4), D("30.00"))

        gain = counted("100")
        waiting = keeper.post(f"/api/v1/stocktake/{gain['id']}/submit")
        assert waiting.status_code == 200, waiting.get_json()
        assert "待" in waiting.get_json()["message"], waiting.get_json()
        assert balance(app, sku) == (D(4), D("30.00"))  # taken back: nothing posted while it waits
        read = Api(started, "admin").get(f"/api/v1/stocktake/{gain['id']}").get_json()["result"]
        assert (read["status"], read["total_amount"]) == ("pending", "720.00")
        inbox = manager.get("/api/v1/inbox/").get_json()
        assert gain["number"] in [row["number"] for row in inbox["result"]], inbox
        approved = manager.post(f"/api/v1/stocktake/{gain['id']}/approve")
        assert approved.status_code == 200, approved.get_json()
        done = approved.get_json()["result"]
        assert (done["status"], done["total_amount"], done["lines"][0]["amount"]) == ("submitted", "720.00", "720.00")
        assert balance(app, sku) == (D(100), D("750.00"))

        loss = counted("0")
        waiting = keeper.post(f"/api/v1/stocktake/{loss['id']}/submit")
        assert waiting.status_code == 200, waiting.get_json()
        read = Api(started, "admin").get(f"/api/v1/stocktake/{loss['id']}").get_json()["result"]
        assert (read["status"], read["total_amount"]) == ("pending", "-750.00")
        assert balance(app, sku) == (D(100), D("750.00"))
        sent_back = manager.post(f"/api/v1/stocktake/{loss['id']}/reject")
        assert sent_back.status_code == 200 and sent_back.get_json()["result"]["status"] == "draft"
