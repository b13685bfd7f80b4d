"""A field's names as a spreadsheet's header writes them. Excel imports match columns by their header text (the
field's key or its zh / en label, tolerant of spaces, case, full-width characters, the template's required mark and
brackets), so two fields of one model named alike make a column that could fill either: a field added from the
admin page may not repeat another's name (`name_clashes`), and where fields stored before that rule (or a YAML
field shipped later) still repeat one, the import template heads each of them with its key as well (产地（origin）),
which the matcher reads as that field alone (`keyed_label`, `headed_labels`).
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

from app.i18n import current_locale, label
from app.meta.spec import with_unit

if TYPE_CHECKING:
    from collections.abc import Iterable

    from app.meta.spec import FieldSpec, ModelSpec

_NOISE = re.compile(r"[\s*＊:：_\-()（）\[\]【】]+")
_UNIT = re.compile(r"[(（]([^()（）]*)[)）]\s*$")  # a label's last bracket: its unit (税率(%)) or not (金额（含税）)


def importable_fields(model: ModelSpec, visible: list[FieldSpec]) -> list[FieldSpec]:
    """The fields a file may fill: visible data fields that are not computed, system or lines."""
    return [s for s in visible if not s.system and not s.compute and s.type != "lines" and not s.readonly]


def normalise_header(text: Any) -> str:
    """'  商品编码 * ' -> '商品编码', 'ＳＫＵ' -> 'sku', 'Base unit' -> 'baseunit'."""
    if text is None:
        return ""
    return _NOISE.sub("", unicodedata.normalize("NFKC", str(text))).lower()


def _percented(spec: FieldSpec, names: set[str]) -> set[str]:
    """A share (折扣率) is named too by its names saying it is typed in percents, as the template writes it."""
    if spec.is_fraction:
        names = names | {f"{name}%" for name in names}
    return names - {"", "%"}


def own_names(spec: FieldSpec) -> set[str]:
    """The headers that name `spec` by its key or its labels (normalised)."""
    return _percented(spec, {normalise_header(spec.name)} | {normalise_header(text) for text in spec.label.values()})


def field_names(spec: FieldSpec) -> set[str]:
    """Every header that names `spec`: its own names and its labels with its key (产地（origin）: how the template
    heads a field whose label another field of the model has too)."""
    keyed = {normalise_header(keyed_label(spec, text, lang)) for lang, text in spec.label.items() if text}
    return own_names(spec) | _percented(spec, keyed)


def unitless_names(spec: FieldSpec) -> set[str]:
    """The labels of `spec` without the unit they are built with (the field's `unit`: 税率(%) -> 税率, 账期（天） ->
    账期): a clerk's own workbook heads the column so. A bracket that holds no unit says which figure it is
    (金额（含税）) and is never left out. Matched after every field's own names (a label of another field wins)."""
    units = {normalise_header(unit) for unit in spec.unit.values()}
    found = [m for text in spec.label.values() if text and (m := _UNIT.search(text))]
    return {normalise_header(m.string[: m.start()]) for m in found if normalise_header(m.group(1)) in units} - {""}


def keyed_label(spec: FieldSpec, text: str, locale: str) -> str:
    """`text`, a label of `spec`, with the field's key in brackets before its unit: 产地（origin）,
    账期（terms2）（天）, Origin (origin)."""
    key = f"（{spec.name}）" if locale == "zh" else f" ({spec.name})"
    unit = _UNIT.search(text)
    if unit and normalise_header(unit.group(1)) in {normalise_header(u) for u in spec.unit.values()}:
        return f"{text[: unit.start()].rstrip()}{key}{text[unit.start() :]}"
    return f"{text}{key}"


def header_label(spec: FieldSpec, locale: str | None = None, keyed: bool = False, percent: bool = True) -> str:
    """A column's header without the required mark: the label (with the key when `keyed`), a share's saying it is
    typed in percents (折扣率(%)) as 税率(%)'s label does, unless `percent` is False (an export, whose cells are
    formatted as percents)."""
    locale = locale or current_locale()
    text = label(spec.label, spec.name, locale)
    if keyed:
        text = keyed_label(spec, text, locale)
    return with_unit(text, "%", locale) if spec.in_percent and percent else text


def headed_labels(
    specs: Iterable[FieldSpec],
    locale: str | None = None,
    percent: bool = True,
    among: Iterable[FieldSpec] | None = None,
) -> dict[str, str]:
    """{field: its header among `specs`}: its label, or, when that names another of them (or of `among`: the fields
    an import of the file reads, of which `specs` may be a few) too, its label with its key, so that every header
    names one field (a template filled in, or an export edited, is imported as it is)."""
    specs = list(specs)
    names = {spec.name: own_names(spec) for spec in [*specs, *(among or ())]}
    out: dict[str, str] = {}
    for spec in specs:
        plain = normalise_header(header_label(spec, locale, percent=percent))
        clash = any(plain in taken for name, taken in names.items() if name != spec.name)
        out[spec.name] = header_label(spec, locale, keyed=clash, percent=percent)
    return out


def name_clashes(added: FieldSpec, others: Iterable[FieldSpec]) -> list[tuple[str, str]]:
    """(option, text) for each of `added`'s key and labels that names one of `others` too, by its key, a label, or
    a label without its unit (账期 names 账期（天））: a column headed so could fill either."""
    taken: set[str] = set()
    for other in others:
        if other.name != added.name:
            taken |= own_names(other) | unitless_names(other)
    texts = [("name", added.name)] + [("label", text) for text in dict.fromkeys(added.label.values()) if text]
    return [(option, text) for option, text in texts if normalise_header(text) in taken]
