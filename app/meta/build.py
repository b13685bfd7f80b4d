"""Build SQLAlchemy classes and tables from model specs (a fresh set per metadata version)."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, Table, func, null
from sqlalchemy.orm import registry as orm_registry
from sqlalchemy.orm import relationship

from app.meta.spec import FieldSpec, Metadata, ModelSpec
from app.meta.types import FIELD_TYPES

MAX_NAME = 63  # PostgreSQL's identifiers


def make_column(spec: FieldSpec) -> Column[Any]:
    """A fresh Column for a field (used for new tables and for add-only column changes)."""
    ftype = FIELD_TYPES[spec.type]
    if spec.type == "link":
        return Column(spec.column, Integer, ForeignKey(f"{spec.to}.id"), nullable=True)
    if spec.type == "user":
        return Column(spec.column, Integer, ForeignKey("ab_user.id"), nullable=True)
    if spec.name == "version" and spec.system:
        return Column("version", Integer, nullable=False, default=1)
    return Column(spec.column, ftype.column_type(spec), nullable=True)


def index_name(name: str) -> str:
    """An index's name within PostgreSQL's 63 characters: a longer one is cut and ends with a hash of the whole,
    so two long fields that differ only at the end do not get one name (the second index was skipped)."""
    if len(name) <= MAX_NAME:
        return name
    return f"{name[: MAX_NAME - 9]}_{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def index_for(model: ModelSpec, spec: FieldSpec) -> Index | None:
    """The index a field needs: unique, requested, or on a link column; none of its own when one of the model's
    sort and filter paths (`indexes`) starts with the field: that index serves its lookups and the foreign key's
    checks as well, and a second one would only be written too (item's category: `[category, name]`)."""
    if spec.unique:
        return Index(index_name(f"uq_{model.key}_{spec.column}"), spec.column, unique=True)
    if spec.index or spec.is_link:
        if (spec.system and spec.is_link) or any(group[0] == spec.name for group in model.indexes):
            return None
        return Index(index_name(f"ix_{model.key}_{spec.column}"), spec.column)
    return None


def code_index_name(table: str, column: str) -> str:
    """The name of a code field's index of its lower-cased value."""
    return index_name(f"ix_{table}_{column}_key")


def code_index_for(table: str, spec: FieldSpec, column: Column[Any]) -> Index | None:
    """Index of a code's lower-cased value: codes are compared whatever their case (`lower(sku) = 'a001'`,
    `lower(sku) IN (...)` for an import's chunk), which the plain unique index cannot serve."""
    if not spec.is_code:
        return None
    return Index(code_index_name(table, spec.column), func.lower(column))


def characters(value: Any) -> Any:
    """SQL: the characters of a text, lower-cased, as an array (built-in and immutable, so it can be indexed)."""
    return func.string_to_array(func.lower(value), null())


def search_index_name(table: str, column: str) -> str:
    """The name of a search field's index (see search_index_for)."""
    return index_name(f"ix_{table}_{column}_search")


def search_index_for(table: str, spec: FieldSpec, column: Column[Any]) -> Index | None:
    """PostgreSQL GIN index that serves "contains" filters (ILIKE '%...%') on a search field, two columns in one
    index: the text's trigrams (pg_trgm, for three characters and more) and its characters, where a one- or
    two-character search (奶, 薯片) finds its candidates (pg_trgm needs three; on a code or barcode field the Chinese
    characters of a search find no candidate at once, so the search box's OR of fields stays indexed). PostgreSQL
    searches a multicolumn GIN index by any of its columns alike; one index, not two, is one entry list fewer to
    write for every row inserted or updated out of place (docs/ledger.md, "Fewer item indexes")."""
    if not spec.search_index:
        return None
    return Index(
        search_index_name(table, spec.column),
        column,
        characters(column),
        postgresql_using="gin",
        postgresql_ops={spec.column: "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql")


def table_options(model: ModelSpec) -> dict[str, Any]:
    """A model's table options: its fillfactor on PostgreSQL (SQLite has none). Below 100, inserts leave each page
    that much room, so an update in place of a column no index holds (an item's cost price, a balance's quantity, a
    line's cost or done quantity) can write the new row version on the same page: a heap-only tuple (HOT), with no
    new entry in any of the table's indexes."""
    if model.fillfactor is None:
        return {}
    return {"postgresql_with": {"fillfactor": model.fillfactor}}


def build_classes(meta: Metadata, user_table: Table) -> tuple[dict[str, type], MetaData]:
    """Mapped classes for every model, in a registry of their own."""
    metadata = MetaData()
    user_table.to_metadata(metadata)
    reg = orm_registry(metadata=metadata)
    base = reg.generate_base()
    classes: dict[str, type] = {}
    for model in meta.models.values():
        classes[model.key] = _build_class(model, base, meta)
    # configured now, when the registry is built (start-up, a metadata change), not by the first statement that uses
    # a class: that was 0.1 s of a worker's first request that writes or posts (its relationships and attributes)
    reg.configure()
    return classes, metadata


def _build_class(model: ModelSpec, base: type, meta: Metadata) -> type:
    attrs: dict[str, Any] = {"__tablename__": model.key, "id": Column(Integer, primary_key=True)}
    indexes: list[Index] = []
    for spec in model.fields:
        if spec.type == "lines" or (model.is_line and spec.column == "parent_id"):  # made below, as lines need it
            continue
        column = make_column(spec)
        attrs[spec.column] = column
        found = (
            index_for(model, spec),
            code_index_for(model.key, spec, column),
            search_index_for(model.key, spec, column),
        )
        indexes.extend(i for i in found if i is not None)
    for group in model.unique_together:
        columns = [model.field(name).column for name in group]  # type: ignore[union-attr]
        indexes.append(Index(index_name(f"uq_{model.key}_{'_'.join(group)}"), *columns, unique=True))
    for group in model.indexes:  # sort and filter paths; id last keeps pages stable and index-only
        columns = [model.field(name).column for name in group]  # type: ignore[union-attr]
        indexes.append(Index(index_name(f"ix_{model.key}_{'_'.join(group)}_id"), *columns, "id"))
    if model.is_line:
        attrs["parent_id"] = Column(Integer, ForeignKey(f"{model.parent}.id", ondelete="CASCADE"), nullable=False)
        attrs["line_no"] = Column(Integer, nullable=False, default=1)
        indexes.append(Index(f"ix_{model.key}_parent_id", "parent_id"))
    if model.lines_model:
        line_class = "".join(p.capitalize() for p in model.lines_model.split("_"))
        attrs["lines"] = relationship(
            line_class,
            order_by=f"{line_class}.line_no",
            cascade="all, delete-orphan",
            passive_deletes=True,
            lazy="select",
        )
    attrs["__table_args__"] = (*indexes, table_options(model))
    attrs["__mapper_args__"] = {"version_id_col": attrs["version"]}
    attrs["__jxc_model__"] = model.key
    return type(model.class_name, (base,), attrs)
