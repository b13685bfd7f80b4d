"""A list page's filters in its URL: `?filter=<field>:<value>` (the field is that value) or `?filter=<field>:<a>,<b>`
(one of them; a blank among them matches a blank field), repeated for each field. The home page's 待入库 links to
the order list this way; the filters go through the same whitelist as the API's (fields the reader may see)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from app.i18n import t
from app.meta.spec import ModelSpec
from app.meta.types import FIELD_TYPES
from app.services.records.query import BadQuery, Filter, field_label

ARG = "filter"


def filter_args(filters: list[Filter]) -> list[str]:
    """The URL values of these filters (`eq` and `in` filters)."""
    out = []
    for flt in filters:
        values = flt.value if flt.op == "in" else [flt.value]
        out.append(f"{flt.field}:{','.join('' if v is None else str(v) for v in values)}")
    return out


def filter_query(filters: list[Filter]) -> str:
    """`filter=...&filter=...`: what a link to the filtered list carries."""
    return urlencode([(ARG, value) for value in filter_args(filters)])


def filters_from(values: list[str]) -> list[Filter]:
    """The filters a list page's URL asks for; BadQuery (400) for one that is not `<field>:<values>`."""
    found = []
    for raw in values:
        field, colon, rest = raw.partition(":")
        if not colon or not field.strip():
            raise BadQuery(t("bad_list_filter", text=raw))
        parts = rest.split(",")
        found.append(Filter(field.strip(), "in", parts) if len(parts) > 1 else Filter(field.strip(), "eq", rest))
    return found


def described(model: ModelSpec, filters: list[Filter]) -> list[dict[str, Any]]:
    """Each filter as the page says it: the field's label and its values' texts (a blank as 空白)."""
    out = []
    for flt in filters:
        spec = model.field(flt.field)
        values = flt.value if flt.op == "in" else [flt.value]
        texts = [
            FIELD_TYPES[spec.type].read_text(spec, v) if spec is not None and v not in ("", None) else t("list_blank")
            for v in values
        ]
        out.append({"label": field_label(model, flt.field), "values": texts})
    return out
