"""The metadata loader: every mistake reported at once with file:line and a hint; metadata kept in step.

The broken metadata is the real metadata/ with the files of tests/data/meta_broken/ laid over it; a
line ending in `# E:<id>` is where error <id> may be reported.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.meta.loader import FIELD_OPTIONS, load_metadata
from app.meta.spec import MetaError
from app.meta.types import FIELD_TYPES

ROOT = Path(__file__).resolve().parent.parent
METADATA = ROOT / "metadata"
BROKEN = Path(__file__).resolve().parent / "data" / "meta_broken"
CJK = re.compile(r"[\u4e00-\u9fff]")
LABEL = {"zh": "测试", "en": "Test"}


def make_broken_copy(tmp_path: Path) -> Path:
    """A copy of metadata/ with the broken fixture files laid over it."""
    root = tmp_path / "metadata"
    shutil.copytree(METADATA, root)
    shutil.copytree(BROKEN, root, dirs_exist_ok=True)
    (root / "README.md").unlink()
    return root


def marked_lines(path: Path, marker: str) -> set[int]:
    """Line numbers (1-based) of the lines ending in `# <marker>`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = {n for n, text in enumerate(lines, 1) if text.rstrip().endswith(f"# {marker}")}
    assert found, f"no '# {marker}' in {path}"
    return found


@dataclass(frozen=True)
class Expected:
    """One error the broken metadata must produce."""

    id: str
    file: str
    message: str  # regular expression searched in the message
    hint: str = ""  # text the hint must contain ("" = the message carries the advice)


EXPECTED = [
    Expected("unknown_type", "models/gadget.yaml", r"field 'weight': unknown type 'integr'", "did you mean 'integer'"),
    Expected(
        "missing_link", "models/gadget.yaml", r"'maker' links to missing model 'warehose'", "did you mean 'warehouse'"
    ),
    Expected("bad_default", "models/gadget.yaml", r"field 'pieces': bad default 'abc'"),
    Expected(
        "unknown_option",
        "models/gadget.yaml",
        r"field 'colour': unknown option 'max_lenght'",
        "did you mean 'max_length'",
    ),
    Expected("select_no_options", "models/gadget.yaml", r"field 'grade': select needs 'options"),
    Expected("duplicate_key", "models/gadget.yaml", r"duplicate key 'name'"),
    Expected("document_number", "models/gadget_order.yaml", r"'number' is added to every document", "remove"),
    Expected(
        "line_unknown_type",
        "models/gadget_order.yaml",
        r"field 'qty': unknown type 'quantty'",
        "did you mean 'quantity'",
    ),
    Expected("syntax", "models/gadget_note.yaml", r"invalid YAML"),
    Expected("missing_model", "roles.yaml", r"'gizmo' matches no model", "gadget"),
    Expected("unknown_action", "roles.yaml", r"unknown action 'wirte'", "did you mean 'write'"),
    Expected("hidden_missing_field", "roles.yaml", r"gadget has no field 'nmae'", "did you mean 'name'"),
    Expected(
        "hidden_missing_model", "roles.yaml", r"hidden_fields names missing model 'gadgets'", "did you mean 'gadget'"
    ),
    Expected("scope_not_user", "roles.yaml", r"'name' must be a user field for 'me'"),
]


def split_where(error: MetaError) -> tuple[str, int]:
    """('models/gadget.yaml', 15) from 'metadata/models/gadget.yaml:15'."""
    match = re.fullmatch(r"metadata/(.+\.yaml):(\d+)", error.where)
    assert match, f"not file:line: {error}"
    return match.group(1), int(match.group(2))


@pytest.fixture(scope="module")
def broken_errors(tmp_path_factory: pytest.TempPathFactory) -> list[MetaError]:
    """The errors from loading the broken copy (loaded once for the module)."""
    meta, errors = load_metadata(make_broken_copy(tmp_path_factory.mktemp("broken")))
    assert meta is None
    return errors


@pytest.mark.parametrize("expected", EXPECTED, ids=[e.id for e in EXPECTED])
def test_broken_metadata_reports_the_error_at_its_line(broken_errors, expected):
    allowed_lines = marked_lines(BROKEN / expected.file, f"E:{expected.id}")
    matches = [e for e in broken_errors if re.search(expected.message, e.message)]
    assert len(matches) == 1, f"{expected.id}: {[str(e) for e in broken_errors]}"
    error = matches[0]
    file, line = split_where(error)
    assert file == expected.file, str(error)
    assert line in allowed_lines, f"{error} should point at one of lines {sorted(allowed_lines)}"
    if expected.hint:
        assert expected.hint in error.hint, str(error)


def test_broken_metadata_reports_nothing_else(broken_errors):
    """Every error is one of the planted mistakes: none are lost, none are invented."""
    unexpected = [str(e) for e in broken_errors if not any(re.search(x.message, e.message) for x in EXPECTED)]
    assert unexpected == []
    assert len(broken_errors) == len(EXPECTED)


def test_duplicate_key_names_the_first_occurrence(broken_errors):
    (error,) = [e for e in broken_errors if "duplicate key" in e.message]
    (first,) = marked_lines(BROKEN / "models/gadget.yaml", "D:first_name")
    assert f"first at line {first}" in error.message


def test_bad_default_says_why(broken_errors):
    (error,) = [e for e in broken_errors if "bad default" in e.message]
    assert re.search(r"整数|whole number", error.message), str(error)


def test_real_metadata_loads_without_errors():
    meta, errors = load_metadata(METADATA)
    assert [str(e) for e in errors] == []
    assert meta is not None
    assert {"item", "partner", "purchase_order", "purchase_order_line", "stock_move"} <= set(meta.models)


def test_classes_built_from_metadata_come_configured():
    """A registry's mappers are configured as it is built (start-up, a metadata change), not by the first statement
    a worker runs with them (0.1 s of its first upload or posting)."""
    from sqlalchemy import Column, Integer, MetaData, String, Table, inspect

    from app.meta.build import build_classes

    meta, _ = load_metadata(METADATA)
    assert meta is not None
    users = Table("ab_user", MetaData(), Column("id", Integer, primary_key=True), Column("username", String(64)))
    classes, _ = build_classes(meta, users)
    assert classes and all(inspect(cls).configured for cls in classes.values())
    assert inspect(classes["stocktake"]).relationships["lines"].mapper is inspect(classes["stocktake_line"])


def test_every_model_and_field_is_labelled_and_explained_in_both_languages():
    """Meta-test (STYLE principle 10): labels and help in zh and en, the zh text really Chinese."""
    meta, _ = load_metadata(METADATA)
    assert meta is not None
    missing = []
    for model in meta.models.values():
        if not (CJK.search(model.label.get("zh", "")) and model.label.get("en")):
            missing.append(f"{model.key}: label {model.label}")
        for spec in model.fields:
            if not (spec.label.get("zh") and spec.label.get("en")):
                missing.append(f"{model.key}.{spec.name}: label {spec.label}")
            if not (CJK.search(spec.help.get("zh", "")) and spec.help.get("en")):
                missing.append(f"{model.key}.{spec.name}: help {spec.help}")
    assert missing == []


def test_every_field_type_and_option_is_documented():
    """Meta-test: docs/metadata.md names every field type and every field option the loader accepts."""
    docs = (ROOT / "docs" / "metadata.md").read_text(encoding="utf-8")
    undocumented = [name for name in sorted(set(FIELD_TYPES) | FIELD_OPTIONS) if not re.search(rf"`{name}[`:]", docs)]
    assert undocumented == []


def runtime(model: str, name: str, **spec: object) -> dict[str, object]:
    """A runtime field row as stored in the database."""
    return {"model": model, "name": name, "spec": {"label": LABEL, **spec}}


def test_runtime_field_joins_its_model_before_the_system_fields():
    meta, errors = load_metadata(METADATA, [runtime("item", "colour_code", type="text", max_length=20)])
    assert errors == []
    assert meta is not None
    fields = meta.model("item").fields
    names = [f.name for f in fields]
    added = meta.model("item").field("colour_code")
    assert added is not None and added.origin == "db" and added.max_length == 20
    assert names.index("colour_code") < names.index("version")
    assert all(not f.system for f in fields[: names.index("colour_code")])


def test_a_unit_builds_the_label_and_the_field_read_back_builds_the_same():
    """`unit` is part of the label (账期（天）, 税率(%), Shelf life (days)) and what an import header may leave out; the
    field as the API gives it (to_dict: the built label and its unit) loads to the same label again."""
    days = runtime("item", "keep_days", type="integer", unit={"zh": "天", "en": "days"})
    share = runtime("item", "rebate", type="decimal", measure="rate", unit="%")
    meta, errors = load_metadata(METADATA, [days, share])
    assert errors == [] and meta is not None
    keep, rebate = meta.model("item").field("keep_days"), meta.model("item").field("rebate")
    assert keep.label == {"zh": "测试（天）", "en": "Test (days)"}
    assert rebate.label == {"zh": "测试(%)", "en": "Test (%)"}
    assert rebate.in_percent and not keep.in_percent
    again, errors = load_metadata(METADATA, [{"model": "item", "name": "keep_days", "spec": keep.to_dict()}])
    assert errors == [] and again.model("item").field("keep_days").label == keep.label
    _, errors = load_metadata(METADATA, [runtime("item", "colour", type="text", unit="cm")])
    assert [e.message for e in errors] == ["field 'colour': unit is a number's, as text or {zh, en}"]


def test_runtime_field_clashing_with_a_yaml_field_is_an_error():
    meta, errors = load_metadata(METADATA, [runtime("item", "sku", type="text")])
    assert meta is None
    assert len(errors) == 1
    assert "item.sku" in errors[0].where
    assert "declared twice" in errors[0].message


def test_runtime_field_clashing_with_a_link_column_is_an_error():
    """`category_id` would share the column of the YAML link `category`."""
    meta, errors = load_metadata(METADATA, [runtime("item", "category_id", type="text")])
    assert meta is None
    assert any("clashes with field 'category'" in e.message for e in errors), [str(e) for e in errors]


def test_runtime_field_on_a_missing_model_is_an_error():
    meta, errors = load_metadata(METADATA, [runtime("gizmo", "colour", type="text")])
    assert meta is None
    assert [(e.where, e.message) for e in errors] == [("database field gizmo.colour", "model 'gizmo' no longer exists")]


def test_runtime_field_with_a_bad_spec_is_reported_with_the_yaml_errors(tmp_path):
    """Runtime fields go through the same checks, in the same run as the YAML."""
    meta, errors = load_metadata(make_broken_copy(tmp_path), [runtime("item", "shade", type="colr")])
    assert meta is None
    texts = [str(e) for e in errors]
    assert any("database field item.shade" in t and "unknown type 'colr'" in t for t in texts), texts
    assert len(errors) == len(EXPECTED) + 1


WRONG_SHAPES = {
    # file to write (relative to metadata/) -> YAML text; each holds one value of the wrong shape
    "field_type_is_a_list": ("models/zz_shape.yaml", "type: [text]"),
    "link_to_is_a_list": ("models/zz_shape.yaml", "type: link, to: [item]"),
    "business_key_is_a_list": ("models/zz_shape.yaml", None),
    "permissions_is_a_list": ("roles.yaml", "    permissions: [item]\n"),
    "hidden_fields_is_a_list": ("roles.yaml", "    hidden_fields: [item]\n"),
    "hidden_fields_value_is_a_string": ("roles.yaml", "    hidden_fields: {item: purchase_price}\n"),
    "row_scope_value_is_a_list": ("roles.yaml", "    row_scope: {partner: {owner: [me]}}\n"),
    "settings_is_a_list": ("settings.yaml", "[currency, CNY]\n"),
}


def write_wrong_shape(root: Path, case: str) -> None:
    """Put the wrong-shaped value of `case` into the metadata copy at `root`."""
    target, snippet = WRONG_SHAPES[case]
    path = root / target
    if target == "models/zz_shape.yaml":
        field = "{%s, label: {zh: 编码, en: Code}}" % (snippet or "type: text")
        key = "[code]" if case == "business_key_is_a_list" else "code"
        path.write_text(
            f"label: {{zh: 形状, en: Shape}}\nbusiness_key: {key}\nfields:\n  code: {field}\n", encoding="utf-8"
        )
    elif target == "roles.yaml":
        text = path.read_text(encoding="utf-8")
        assert text.rstrip().splitlines()[-1].startswith("      "), "roles.yaml no longer ends inside a role"
        path.write_text(text.rstrip() + "\n  zz_shape:\n    label: {zh: 形状, en: Shape}\n" + snippet, encoding="utf-8")
    else:
        path.write_text(snippet, encoding="utf-8")


@pytest.mark.parametrize("case", sorted(WRONG_SHAPES))
def test_wrong_shaped_value_is_reported_not_raised(tmp_path, case):
    """`jxc meta check` must list a mistake, never die with a traceback, whatever the YAML holds."""
    root = tmp_path / "metadata"
    shutil.copytree(METADATA, root)
    write_wrong_shape(root, case)
    meta, errors = load_metadata(root)
    assert meta is None
    target = WRONG_SHAPES[case][0]
    assert any(e.where.startswith(f"metadata/{target}:") for e in errors), [str(e) for e in errors]


def test_hidden_fields_given_as_a_string_is_reported_as_one_mistake(tmp_path):
    """`item: purchase_price` (no brackets) is one mistake, not one unknown field per letter."""
    root = tmp_path / "metadata"
    shutil.copytree(METADATA, root)
    write_wrong_shape(root, "hidden_fields_value_is_a_string")
    meta, errors = load_metadata(root)
    assert meta is None
    assert len(errors) == 1, [str(e) for e in errors]
    assert "list" in str(errors[0])


def test_backfill_must_name_a_field_of_the_same_type_or_be_a_value():
    """`backfill` fills rows already there when the sync adds the column (docs/metadata.md)."""
    wrong_type = load_metadata(METADATA, [runtime("item", "weight", type="decimal", backfill="name")])[1]
    assert any("backfill field 'name' is a text, not a decimal" in e.message for e in wrong_type)
    bad_value = load_metadata(METADATA, [runtime("item", "weight", type="decimal", backfill="heavy")])[1]
    assert any("backfill 'heavy' is neither a field nor a value" in e.message for e in bad_value)
    assert load_metadata(METADATA, [runtime("item", "weight", type="decimal", backfill="0")])[1] == []


def test_a_report_param_takes_a_select_fields_options_and_every_drill_leads_somewhere_its_reader_may_go(tmp_path):
    """A select parameter's choices are the field's (`options_from`); a role that runs a report runs the one its
    rows drill into (else the link would lead to a refusal)."""
    meta, errors = load_metadata(METADATA)
    assert meta is not None
    (reason,) = [p for p in meta.reports["stocktake_lines"].params if p.name == "reason"]
    field = meta.models["stocktake_line"].field("reason")
    assert field is not None and [v for v, _ in reason.options] == [o.value for o in field.options]
    root = tmp_path / "metadata"
    shutil.copytree(METADATA, root)
    lines = root / "reports" / "stocktake_lines.yaml"
    lines.write_text(lines.read_text(encoding="utf-8").replace("stocktake_line.reason", "stocktake_line.reasn"))
    roles = root / "roles.yaml"
    text = roles.read_text(encoding="utf-8")
    assert "stocktake_loss, stocktake_lines]" in text
    roles.write_text(text.replace("stocktake_loss, stocktake_lines]", "stocktake_loss]"), encoding="utf-8")
    meta, errors = load_metadata(root)
    assert meta is None
    messages = sorted(e.message for e in errors)
    assert messages == [
        "param 'reason': options_from 'stocktake_line.reasn' is not a select field (model.field)",
        "role 'warehouse': runs 'stocktake_loss' but not 'stocktake_lines', which its rows drill into",
    ]


def test_a_report_help_names_only_select_parameters_in_braces(tmp_path):
    """`{by}` in a report's help is filled with the options its reader is offered; a name that is no select
    parameter would be read as it is, so it is refused."""
    root = tmp_path / "metadata"
    shutil.copytree(METADATA, root)
    abc = root / "reports" / "abc.yaml"
    abc.write_text(abc.read_text(encoding="utf-8").replace("{by}给", "{bye}给"), encoding="utf-8")
    meta, errors = load_metadata(root)
    assert meta is None and any("help: '{bye}' names no select parameter" in e.message for e in errors), errors


def test_a_level_a_document_adds_needs_its_role_in_approvals_yaml(tmp_path):
    """Who approves the over-budget level was a role written in code beside approvals.yaml: approvals.yaml's
    `added_levels` says it now, so a level added with no role, or named for a level no document adds, is refused."""
    root = tmp_path / "metadata"
    shutil.copytree(METADATA, root)
    path = root / "approvals.yaml"
    shipped = path.read_text(encoding="utf-8")
    meta, errors = load_metadata(root)
    assert errors == [] and meta.approvals["purchase_order"].added_level("over_budget").role == "manager"
    assert "manager" in meta.approvals["purchase_order"].roles
    path.write_text(shipped.replace("over_budget: manager", "over_budgte: manager"), encoding="utf-8")
    meta, errors = load_metadata(root)
    assert meta is None and sorted(e.message for e in errors) == [
        "purchase_order: 'over_budgte' is not a level purchase_order adds (it adds: over_budget)",
        "purchase_order: added_levels needs a role for 'over_budget' (purchase_order's own level)",
    ]
    path.write_text(shipped.replace("over_budget: manager", "over_budget: boss"), encoding="utf-8")
    meta, errors = load_metadata(root)
    assert meta is None and "purchase_order: added level 'over_budget': unknown role 'boss'" in [
        e.message for e in errors
    ]


def test_a_row_scope_that_leaves_a_writing_role_nothing_to_write_is_refused_at_load(tmp_path):
    """The row-scope half of the one check runs on roles.yaml as it loads (start-up, `jxc meta check`), as the
    role pages run it: 销售员 (`payment: {partner: visible}`) given 收付款单：修改 without 往来单位：查看 would find no
    partner in its scope, and could save no payment. The message says it in both languages."""
    root = tmp_path / "metadata"
    shutil.copytree(METADATA, root)
    path = root / "roles.yaml"
    shipped = path.read_text(encoding="utf-8")
    seller = "      payment: [read]\n      partner: [read, write, export]\n      item: [read]\n"
    assert seller in shipped
    path.write_text(shipped.replace(seller, "      payment: [read, write]\n      item: [read]\n"), encoding="utf-8")
    meta, errors = load_metadata(root)
    assert meta is None and [(e.where, e.code, dict(e.params)) for e in errors] == [
        (
            "metadata/roles.yaml",
            "meta_scope_unfillable",
            {"field": "partner", "role": "salesperson", "model": "payment"},
        )
    ], errors
    assert "its row scope admits no value of its field 'partner'" in errors[0].message
    from app.i18n import t

    assert t("meta_scope_unfillable", "zh", **dict(errors[0].params)).startswith(
        "角色「salesperson」可以新建和修改「payment」，而按它的数据范围，「partner」没有它可以填写的记录"
    )
    english = t("meta_scope_unfillable", "en", **dict(errors[0].params))
    assert english.startswith("The role 'salesperson' writes payment")
    reading = "      payment: [read, write]\n      partner: [read]\n      item: [read]\n"
    path.write_text(shipped.replace(seller, reading), encoding="utf-8")
    assert load_metadata(root)[1] == []  # reading the partners it links to, it writes its customers' payments


@pytest.mark.parametrize(
    ("option", "value", "where"),
    [
        ("fillfactor", "5", "models/unit.yaml"),
        ("fillfactor", "'90'", "models/unit.yaml"),
        ("fillfactor", "true", "models/unit.yaml"),
        ("lines_fillfactor", "80", "models/unit.yaml"),  # a model without lines
    ],
)
def test_a_fillfactor_is_a_whole_percent_and_lines_need_a_document_with_lines(tmp_path, option, value, where):
    """`fillfactor` / `lines_fillfactor` (PostgreSQL's room for updates in place): 10-100, on a table that exists."""
    root = tmp_path / "metadata"
    shutil.copytree(METADATA, root)
    path = root / where
    path.write_text(path.read_text(encoding="utf-8") + f"{option}: {value}\n", encoding="utf-8")
    meta, errors = load_metadata(root)
    assert meta is None
    assert [e.where.split(":")[0] for e in errors] == [f"metadata/{where}"], [str(e) for e in errors]
    assert option in errors[0].message


def test_the_fillfactor_declared_is_the_tables_and_its_lines():
    meta, _ = load_metadata(METADATA)
    assert meta is not None
    assert (meta.models["item"].fillfactor, meta.models["stock_balance"].fillfactor) == (85, 90)
    assert (meta.models["sales_delivery"].fillfactor, meta.models["sales_delivery_line"].fillfactor) == (None, 80)
    assert meta.models["unit"].fillfactor is None


@pytest.mark.parametrize(
    ("key", "natural", "said"),
    [
        ("id", "[code, colour]", "natural_key ['code', 'colour'] must list fields"),
        ("id", "code", "natural_key code must list fields"),
        ("id", "[code, code]", "names a field twice"),
        ("code", "[code]", "natural_key is for a model whose business_key is id"),
    ],
)
def test_a_natural_key_names_fields_of_a_model_keyed_by_its_id(tmp_path, key, natural, said):
    """`natural_key` (the fields an import's 更新 finds a row by) lists the model's fields, once each, and only for a
    model whose business key is its id: a mistake is reported at its line, never raised."""
    root = tmp_path / "metadata"
    shutil.copytree(METADATA, root)
    (root / "models" / "zz_natural.yaml").write_text(
        f"label: {{zh: 自然键, en: Natural}}\nbusiness_key: {key}\nnatural_key: {natural}\n"
        "fields:\n  code: {type: text, label: {zh: 编码, en: Code}, help: {zh: 编码, en: Code}}\n",
        encoding="utf-8",
    )
    meta, errors = load_metadata(root)
    assert meta is None
    assert [(e.where, said in e.message) for e in errors] == [("metadata/models/zz_natural.yaml:3", True)], errors
