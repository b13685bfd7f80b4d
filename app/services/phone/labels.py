"""Item labels: code, name, price (only when the reader may see that price) and a barcode drawn as SVG.

The barcode is EAN-13 when the item's barcode is a valid 13-digit GS1 code, else Code 128 of its barcode or
its SKU; python-barcode encodes the symbol (check digits, code sets) and the bars are drawn here as SVG
rectangles, so a label prints crisply at any size without fonts or scripts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import barcode
from markupsafe import Markup
from sqlalchemy import func, or_
from sqlalchemy.orm import Session

from app.meta.types import FIELD_TYPES, ValueProblem
from app.services.access.rights import Access
from app.services.records.codes import code_key, normalise_code
from app.services.records.query import base_select


@dataclass(frozen=True)
class LabelSize:
    """A label stock: one label per page (a label printer's roll) or a sheet of `columns` x `rows` on A4."""

    key: str
    width_mm: float
    height_mm: float
    columns: int = 1
    rows: int = 1

    @property
    def sheet(self) -> bool:
        """Several labels on one A4 page."""
        return self.columns * self.rows > 1


LABEL_SIZES = {
    "40x30": LabelSize("40x30", 40, 30),
    "50x30": LabelSize("50x30", 50, 30),
    "60x40": LabelSize("60x40", 60, 40),
    "a4": LabelSize("a4", 70, 37, columns=3, rows=8),
}
PRICE_FIELDS = ("sale_price", "wholesale_price")


def symbol(code: str) -> tuple[str, str] | None:
    """(kind, modules) for a code: EAN-13 for a valid 13-digit code, Code 128 for other printable ASCII; None
    for a code no barcode can carry."""
    if len(code) == 13 and code.isdigit():
        ean = barcode.get_barcode_class("ean13")(code[:12])
        if ean.get_fullcode() == code:
            return "ean13", "".join(ean.build())
    if code and all(32 <= ord(char) < 127 for char in code) and len(code) <= 48:
        return "code128", "".join(barcode.get_barcode_class("code128")(code).build())
    return None


def bars_svg(modules: str, height: int = 40) -> Markup:
    """An SVG of the bars (one unit per module, quiet zones of 10 modules), stretched to its box when printed."""
    quiet = 10
    rects = []
    i = 0
    while i < len(modules):
        if modules[i] == "1":
            start = i
            while i < len(modules) and modules[i] == "1":
                i += 1
            rects.append(f'<rect x="{start + quiet}" y="0" width="{i - start}" height="{height}"/>')
        else:
            i += 1
    width = len(modules) + 2 * quiet
    return Markup(
        f'<svg class="jxc-barcode" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="none" shape-rendering="crispEdges" role="img">{"".join(rects)}</svg>'
    )


def label_prices(access: Access) -> list[str]:
    """The prices a label may carry that the reader may see (a warehouse keeper: none)."""
    model = access.registry.model("item")
    return [name for name in PRICE_FIELDS if (spec := model.field(name)) is not None and access.can_see(model, spec)]


def label_sheet(session: Session, access: Access, codes: list[str], price_field: str, copies: int) -> dict[str, Any]:
    """{labels: [...], missing: [codes]} for the items (SKU or barcode) the reader may read, each label `copies`
    times; the price is the one asked for when the reader may see it, else left out."""
    access.require("item", "read")
    model = access.registry.model("item")
    cls = access.registry.cls("item")
    spec = model.field(price_field) if price_field in PRICE_FIELDS else None
    shows_price = spec is not None and access.can_see(model, spec)
    keys: dict[str, str] = {}
    for code in codes:
        try:
            keys.setdefault(code_key(normalise_code(code)), code.strip())
        except ValueProblem:
            keys.setdefault(code.strip().lower(), code.strip())
    stmt = base_select(access, model).where(
        or_(func.lower(cls.sku).in_(list(keys)), func.lower(cls.barcode).in_(list(keys)))
    )
    by_key: dict[str, Any] = {}
    for row in session.execute(stmt).scalars():
        by_key.setdefault(code_key(row.sku), row)
        if row.barcode:
            by_key.setdefault(code_key(row.barcode), row)
    unit_cls = access.registry.cls("unit")
    units = dict(session.query(unit_cls.id, unit_cls.name).all()) if access.can("unit", "read") else {}
    labels: list[dict[str, Any]] = []
    missing: list[str] = []
    for key, code in keys.items():
        row = by_key.get(key)
        if row is None:
            missing.append(code)
            continue
        printed = row.barcode or row.sku
        found = symbol(printed)
        price = None
        if shows_price and spec is not None and getattr(row, spec.column) is not None:
            price = FIELD_TYPES[spec.type].to_json(spec, getattr(row, spec.column))
        label = {
            "sku": row.sku,
            "name": row.name,
            "spec": row.spec or "",
            "unit": units.get(row.unit_id, ""),
            "price": price,
            "code": printed,
            "kind": found[0] if found else None,
            "svg": bars_svg(found[1]) if found else None,
        }
        labels.extend([label] * copies)
    return {"labels": labels, "missing": missing, "shows_price": shows_price}
