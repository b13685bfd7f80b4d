"""Match a table's columns to a model's fields: by field key or zh / en label, tolerant of spaces, case,
full-width characters and the template's required mark; find the header row under title rows.

A `Mapping` is {column index: field name}; a column naming a field hidden from the user (a masked 单价) is kept
apart (`Match.masked`: its cells are refused, as a write refuses it); other columns left out are reported as
unknown. The layout's signature (its normalised headers) keys the mapping a user corrected, so the next file of
the same layout needs none.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.i18n import join_list, t
from app.meta.headers import field_names, headed_labels, normalise_header, unitless_names

if TYPE_CHECKING:
    from collections.abc import Sequence

    from app.meta.spec import FieldSpec

REQUIRED_MARK = "*"


def in_percent(spec: FieldSpec, header: str) -> bool:
    """Whether a column of a share (折扣率) or of a rate kept in percent (税率) says it is typed in percents: its
    header ends with % (折扣率(%), 税率(%))."""
    return spec.in_percent and normalise_header(header).endswith("%")


@dataclass
class Match:
    """Where the header is, which column fills which field, and what was left over."""

    header_index: int  # index into Table.rows
    headers: list[str]
    mapping: dict[int, str]
    unknown: list[int] = field(default_factory=list)  # columns with a header that names no field
    signature: str = ""
    masked: dict[int, str] = field(default_factory=dict)  # columns naming a field the user may not see or set
    percent: set[int] = field(default_factory=set)  # columns typed in percents (折扣率(%): 7.5 is 7.5%; 税率(%): 13)
    ambiguous: dict[int, list[str]] = field(default_factory=dict)  # columns whose header names two fields: their labels

    def header_problems(self) -> list[str]:
        """The header's own problems: a field filled by two columns, a header that names two fields (refused naming
        both: which one the clerk meant is theirs to say)."""
        filled = list(self.mapping.values())
        out = [t("imports.column_twice", field=name) for name in sorted({n for n in filled if filled.count(n) > 1})]
        for col, labels in self.ambiguous.items():
            named = join_list(t("imports.quoted", label=text) for text in labels)
            out.append(t("imports.header_ambiguous", column=self.headers[col], fields=named))
        return out

    def problems(self, fields: list[FieldSpec], action: str) -> list[str]:
        """File-level problems: the header's, required fields with no column (on create)."""
        out = self.header_problems()
        filled = list(self.mapping.values())
        if action == "create":
            for spec in fields:
                if spec.required and spec.default is None and spec.default_setting is None and spec.name not in filled:
                    out.append(t("imports.missing_column", column=_label(spec)))
        return out


def _label(spec: FieldSpec) -> str:
    from app.i18n import label

    return label(spec.label, spec.name)


def signature(headers: list[str]) -> str:
    """A layout's identity: its normalised headers in order (sha256)."""
    joined = "\x1f".join(normalise_header(h) for h in headers)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def match_columns(
    rows: list[list[Any]],
    fields: list[FieldSpec],
    remembered: dict[str, str] | None = None,
    masked: Sequence[FieldSpec] = (),
) -> Match:
    """Find the header row among the first rows (the one naming most fields) and map its columns.

    `remembered` is a stored correction {normalised header: field name} for this layout; it wins over the
    automatic match. `masked`: fields hidden from the user; a column naming one is in `Match.masked`.
    """
    every = {spec.name: spec for spec in [*masked, *fields]}  # for their labels
    by_own: dict[str, set[str]] = {}  # a header -> the fields it names by their own key or labels
    by_unitless: dict[str, set[str]] = {}  # ... by their labels without the unit
    for lookup, names_of in ((by_own, field_names), (by_unitless, unitless_names)):
        for spec in [*fields, *masked]:  # a field may come several times, under each of its names (stocktake's code)
            for name in names_of(spec):
                lookup.setdefault(name, set()).add(spec.name)

    def named(key: str) -> set[str]:  # a field's own name wins over a label without its unit
        return by_own.get(key) or by_unitless.get(key) or set()

    best, best_hits = 0, -1
    for index, row in enumerate(rows[:10]):
        hits = sum(1 for value in row if named(normalise_header(value)))
        if hits > best_hits:
            best, best_hits = index, hits
    headers = ["" if v is None else str(v).strip() for v in rows[best]] if rows else []
    specs = {spec.name: spec for spec in fields}
    known = set(specs)
    percent: set[int] = set()
    hidden = set(every) - known
    mapping: dict[int, str] = {}
    unknown: list[int] = []
    hidden_columns: dict[int, str] = {}
    ambiguous: dict[int, list[str]] = {}
    for col, header in enumerate(headers):
        key = normalise_header(header)
        if not key:
            continue
        targets = {remembered[key]} if remembered and key in remembered else named(key)
        target = min(targets) if len(targets) == 1 else None
        if len(targets) > 1:
            # the headers to choose from: 产地（origin） where two are labelled 产地
            ambiguous[col] = sorted(headed_labels(every[name] for name in targets).values())
        elif target and target in known:
            mapping[col] = target
            if in_percent(specs[target], header):
                percent.add(col)
        elif target and target in hidden:
            hidden_columns[col] = target
        elif remembered is None or key not in remembered:  # a column the user chose to skip is not unknown
            unknown.append(col)
    return Match(best, headers, mapping, unknown, signature(headers), hidden_columns, percent, ambiguous)


def column_letter(index: int) -> str:
    """0 -> A, 27 -> AB."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
