"""The import template of a model, built from its metadata as it is now (fields added from the admin
page appear at once): one header row in the reader's language, required columns marked `*` and
coloured, each header's help as a comment, dropdowns (data validation) for options and yes / no, text
columns formatted as text (leading zeros kept), and a notes sheet describing every column.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from app.i18n import current_locale, label, t
from app.meta.headers import headed_labels, header_label, importable_fields
from app.meta.types import FIELD_TYPES
from importers.matcher import REQUIRED_MARK

if TYPE_CHECKING:
    from app.meta.spec import FieldSpec, ModelSpec
    from app.services.access.rights import Access

TEMPLATE_ROWS = 5000  # rows the dropdowns cover
REQUIRED_COLOR, HEADER_COLOR = "FFE699", "D9E1F2"  # a column to fill, any other column (the count sheet's too)
REQUIRED_FILL = PatternFill("solid", fgColor=REQUIRED_COLOR)
HEADER_FILL = PatternFill("solid", fgColor=HEADER_COLOR)


def header_text(spec: FieldSpec, locale: str | None = None, text: str | None = None) -> str:
    """A column's header as the template writes it (`*` before a required field's label; a share's says it is typed
    in percents, 折扣率(%), as 税率(%)'s label does: 7.5 is 7.5%). `text`: the header without the mark, when it is
    not the field's own (`headed_labels`: 产地（origin） beside another 产地)."""
    text = text or header_label(spec, locale)
    return f"{REQUIRED_MARK}{text}" if spec.required else text


def _choices(spec: FieldSpec, locale: str | None) -> list[str]:
    if spec.options:
        return [label(o.label, o.value, locale) for o in spec.options]
    if spec.type == "boolean":
        return [t("bool.yes", locale), t("bool.no", locale)]
    return []


def template_workbook(access: Access, model: ModelSpec, locale: str | None = None) -> bytes:
    """The template as xlsx bytes, for the columns `access`'s user may fill. A workbook is a function of the
    metadata version, the language and those columns: it is built once per registry (openpyxl takes tens of
    milliseconds) and kept with it, so a change of metadata builds it again."""
    if model.kind == "document":  # the file's number, the header's columns, then the lines'
        from importers.documents import document_fields, template_fields

        fields = template_fields(access, model)
        masked = list(document_fields(access, model, masked=True).values())
    else:
        fields = importable_fields(model, access.visible_fields(model))
        masked = importable_fields(model, access.masked_fields(model))
    locale = locale or current_locale()
    key = ("import_template", model.key, locale, tuple(spec.name for spec in fields), tuple(s.name for s in masked))
    built = access.registry.cache.get(key)
    if built is None:
        linked = {spec.to: label(access.registry.model(spec.to).label, spec.to, locale) for spec in fields if spec.to}
        # every header names one field, among those the file may fill and those the matcher refuses it (masked)
        headers = headed_labels([*fields, *masked], locale)
        built = access.registry.cache[key] = _workbook(model, fields, locale, linked, headers)
    return built


def _workbook(
    model: ModelSpec, fields: list[FieldSpec], locale: str, linked: dict[str, str], headers: dict[str, str]
) -> bytes:
    """The template; `linked`: each linked model's label (商品 for item), which its notes name; `headers`: each
    field's header without the required mark."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = label(model.label, model.key, locale)[:31]
    lists = book.create_sheet("lists")
    lists.sheet_state = "hidden"  # long option lists live here; the reader skips hidden sheets
    for col, spec in enumerate(fields, start=1):
        cell = sheet.cell(row=1, column=col, value=header_text(spec, locale, headers[spec.name]))
        cell.font = Font(bold=True, color="C00000" if spec.required else "000000")
        cell.fill = REQUIRED_FILL if spec.required else HEADER_FILL
        note = label(spec.help, "", locale) if spec.help else ""
        cell.comment = Comment(f"{spec.name}\n{note}".strip(), "JXC")
        letter = get_column_letter(col)
        sheet.column_dimensions[letter].width = max(10, min((spec.grid_width or 100) / 7, 40))
        if FIELD_TYPES[spec.type].name in ("text", "barcode", "long_text") or spec.is_link:
            sheet.column_dimensions[letter].number_format = "@"  # the column is text: typed codes keep leading zeros
        choices = _choices(spec, locale)
        if choices:
            for index, choice in enumerate(choices, start=1):
                lists.cell(row=index, column=col, value=choice)
            source = f"lists!${letter}$1:${letter}${len(choices)}"
            validation = DataValidation(type="list", formula1=source, allow_blank=not spec.required)
            validation.error = t("imports.template_pick", locale)
            validation.showErrorMessage = True
            sheet.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS}")
    sheet.freeze_panes = "A2"
    _notes(book, model, fields, locale, linked, headers)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _notes(
    book: Workbook,
    model: ModelSpec,
    fields: list[FieldSpec],
    locale: str | None,
    linked: dict[str, str],
    headers: dict[str, str],
) -> None:
    notes = book.create_sheet(t("imports.notes_sheet", locale)[:31])
    intro = "imports.notes_intro_document" if model.kind == "document" else "imports.notes_intro"
    notes.append([t(intro, locale, model=label(model.label, model.key, locale))])
    notes.append([])
    heads = ("column", "key", "type", "required", "values", "help")
    notes.append([t(f"imports.notes_{h}", locale) for h in heads])
    for cell in notes[3]:
        cell.font = Font(bold=True)
    for spec in fields:
        values = ", ".join(_choices(spec, locale))
        if spec.is_link:  # a link by its model's name (填「商品」的编码或名称), a user by user name
            values = (
                t("imports.notes_link", locale, model=linked[spec.to]) if spec.to else t("imports.notes_user", locale)
            )
        notes.append(
            [
                headers[spec.name],  # the column as the sheet heads it
                spec.name,
                t(f"imports.type.{spec.type}", locale),
                t("bool.yes", locale) if spec.required else "",
                values,
                label(spec.help, "", locale) if spec.help else "",
            ]
        )
    for letter, width in zip("ABCDEF", (18, 16, 12, 8, 30, 60), strict=True):
        notes.column_dimensions[letter].width = width
