"""Every field type owns its projections: the form input, the grid's look, the spreadsheet cell, and the
sample and refused values the generic tests use. The tests run over FIELD_TYPES, so a new type is one
class (app/meta/types.py) and these tests check it with no new code."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from werkzeug.datastructures import MultiDict

from app.clock import business_time
from app.meta.spec import FieldSpec, Option
from app.meta.types import FIELD_TYPES, ValueProblem
from app.services.grid.export import new_workbook

STATIC = Path(__file__).resolve().parent.parent / "app" / "static" / "jxc"
TYPES = sorted(name for name in FIELD_TYPES if name != "lines")
NO_SAMPLE = {"barcode"}  # unique codes: a test that needs one makes its own
# The words the grid's script knows (values.js, grid/*.js); the first of each is what it falls back to.
GRID_WORDS = {
    "editor": ("text", "textarea", "date", "tick", "list", "link"),
    "format": ("text", "number", "tick", "option", "link", "datetime"),
    "filter": ("like", "compare", "options", "yesno"),
    "align": ("left", "right", "center"),
}
FORM_INPUTS = ("text", "textarea", "select", "checkbox", "decimal", "number", "date", "link", "datetime")


class KnownRows:
    """One item (id 7, key K1) and the admin (id 1): a resolver and a source of link samples."""

    def resolve(self, model: str, raw: Any) -> int | None:
        return 7 if raw in ("K1", 7) else None

    def resolve_user(self, raw: Any) -> int | None:
        return 1 if raw in ("admin", 1) else None

    def existing_key(self, model: str) -> Any:
        return "K1"


ROWS = KnownRows()


def spec_for(type_name: str) -> FieldSpec:
    """A field of the type with the options its kind needs (select options, a link target, a length)."""
    extra: dict[str, Any] = {
        "select": {"options": (Option("a", {"zh": "甲", "en": "A"}), Option("b", {"zh": "乙", "en": "B"}))},
        "link": {"to": "item"},
        "text": {"max_length": 8},
        "long_text": {"max_length": 500},
    }.get(type_name, {})
    return FieldSpec(name="f", type=type_name, label={"zh": "字段", "en": "Field"}, **extra)


def api_json(type_name: str) -> Any:
    """The sample as the API serialises it (links read as {id, key, name})."""
    ftype, spec = FIELD_TYPES[type_name], spec_for(type_name)
    value = ftype.parse(spec, ftype.sample(spec, "T1", ROWS), ROWS)
    return {"id": value, "key": "K1", "name": "样品"} if spec.is_link else ftype.to_json(spec, value)


@pytest.mark.parametrize("type_name", TYPES)
def test_the_sample_is_valid_and_reads_back_the_same(type_name):
    ftype, spec = FIELD_TYPES[type_name], spec_for(type_name)
    sample = ftype.sample(spec, "T1", ROWS)
    assert (sample is None) == (type_name in NO_SAMPLE)
    if sample is not None:
        value = ftype.parse(spec, sample, ROWS)
        assert ftype.parse(spec, ftype.to_json(spec, value), ROWS) == value


@pytest.mark.parametrize("type_name", TYPES)
def test_every_refused_value_is_refused_with_a_message(type_name):
    ftype, spec = FIELD_TYPES[type_name], spec_for(type_name)
    assert ftype.bad_values(spec), f"{type_name} names no value it refuses"
    for bad in ftype.bad_values(spec):
        with pytest.raises(ValueProblem) as refused:
            ftype.parse(spec, bad, ROWS)
        assert re.search(r"[\u3400-\u9fff]", str(refused.value)), (bad, str(refused.value))


def script_words() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in [STATIC / "values.js", *STATIC.glob("grid/*.js")])


@pytest.mark.parametrize("type_name", TYPES)
def test_the_grid_look_is_in_words_the_script_knows(type_name):
    look = FIELD_TYPES[type_name].grid_look(spec_for(type_name))
    for key, words in GRID_WORDS.items():
        assert look[key] in words, (key, look[key])
    assert isinstance(look["numeric"], bool) and isinstance(look["card"], bool) and look["decimals"] >= 0


def test_the_script_handles_every_word_of_the_grid_look():
    """Editors, formats and filters are chosen in the script (alignments go to Tabulator as they are)."""
    source = script_words()
    for key in ("editor", "format", "filter"):
        for word in GRID_WORDS[key][1:]:  # the first is the fallback: the script does not name it
            assert f".{key} === '{word}'" in source or f"case '{word}'" in source, (key, word)


@pytest.mark.parametrize("type_name", TYPES)
def test_the_form_input_and_what_a_submitted_form_gives(type_name):
    ftype, spec = FIELD_TYPES[type_name], spec_for(type_name)
    assert ftype.input_type in FORM_INPUTS
    assert ftype.form_value(spec, None, readonly=False) in ("", False)
    shown = ftype.form_value(spec, api_json(type_name), readonly=True)
    assert isinstance(shown, str) and (shown or type_name in NO_SAMPLE)
    assert ftype.form_raw(spec, MultiDict({"f": "x"}), "f") in ("x", True)
    assert ftype.form_raw(spec, MultiDict(), "f") in (None, False)  # an unticked box is a value: False


@pytest.mark.parametrize("type_name", [name for name in TYPES if name not in NO_SAMPLE])
def test_the_spreadsheet_cell_holds_the_value(type_name, tmp_path):
    ftype, spec = FIELD_TYPES[type_name], spec_for(type_name)
    value = api_json(type_name)
    stored = value if spec.is_link else ftype.parse(spec, ftype.sample(spec, "T1", ROWS), ROWS)
    path = tmp_path / "cells.xlsx"
    workbook = new_workbook(str(path))
    sheet = workbook.add_worksheet()
    properties = ftype.excel_format(spec)
    sheet.set_column(0, 0, 10, workbook.add_format(properties) if properties else None)
    sheet.write_row(0, 0, [ftype.excel_value(spec, stored), ftype.excel_value(spec, None)])
    workbook.close()
    cell = load_workbook(path).active.cell(1, 1).value
    assert load_workbook(path).active.cell(1, 2).value is None
    if ftype.numeric:
        assert Decimal(str(cell)) == Decimal(str(value))
    elif type_name == "date":
        assert cell == dt.datetime(2026, 11, 25)
    elif type_name == "datetime":  # stored in UTC, written in the business's time
        assert abs(cell - business_time(dt.datetime.fromisoformat(value))) < dt.timedelta(seconds=1)
    else:
        assert cell == ftype.cell_text(spec, value) != ""


def test_a_user_typed_formula_stays_text_in_the_spreadsheet(tmp_path):
    ftype, spec = FIELD_TYPES["text"], spec_for("text")
    path = tmp_path / "formula.xlsx"
    workbook = new_workbook(str(path))
    words = ["=1+2", "+1", "-2", "@x", "http://x.example", "12.5"]
    workbook.add_worksheet().write_row(0, 0, [ftype.excel_value(spec, word) for word in words])
    workbook.close()
    sheet = load_workbook(path).active
    assert [sheet.cell(1, n + 1).value for n in range(len(words))] == words
    assert all(sheet.cell(1, n + 1).data_type == "s" for n in range(len(words)))


def test_a_decimal_goes_to_the_spreadsheet_as_a_number_only_while_a_double_keeps_every_digit():
    ftype, spec = FIELD_TYPES["decimal"], spec_for("decimal")
    assert ftype.scale(spec) == 4  # stored values have 4 places at most
    assert ftype.excel_value(spec, Decimal("-0.0012")) == -0.0012
    assert ftype.excel_value(spec, Decimal("12345678901.2345")) == 12345678901.2345  # 15 digits
    assert ftype.excel_value(spec, Decimal("-12345678901.2345")) == -12345678901.2345
    assert ftype.excel_value(spec, Decimal("123456789012.3456")) == "123456789012.3456"  # 16: text, exact
    assert ftype.excel_value(spec, Decimal("123456789012345000.0000")) == 123456789012345000.0  # 15 significant
    assert ftype.excel_value(spec, None) is None
