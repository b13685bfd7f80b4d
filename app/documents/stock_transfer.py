"""调拨: out of one warehouse and into another at the same cost."""

from __future__ import annotations

from typing import Any

from app.documents.base import DocumentBehaviour, line_effect
from app.ledger.effects import IN, OUT, Effect
from app.ledger.valuation import Move
from app.services.stock.lots import suggest_batch
from app.services.stock.units import per_line_unit


class StockTransfer(DocumentBehaviour):
    """Transfer between warehouses."""

    moves_stock = True

    def new_line_values(self, session: Any, registry: Any, model: Any, doc: Any, values: dict[str, Any]) -> None:
        super().new_line_values(session, registry, model, doc, values)
        suggest_batch(session, registry, values, doc.from_warehouse_id)

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        effects = []
        for i, line in enumerate(lines):
            effects.append(line_effect(i, line, doc.from_warehouse_id, OUT, "out"))
            effects.append(line_effect(i, line, doc.to_warehouse_id, IN, "in", cost_from="out"))
        return effects

    def after_post(self, doc: Any, lines: list[Any], moves: dict[tuple[int, str], Move]) -> None:
        for line in lines:
            out = moves.get((line.id, "out"))
            line.price = per_line_unit(out.unit_cost if out is not None else None, line)  # the ledger costs base units
