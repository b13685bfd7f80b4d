"""The declarative grouped query a report's YAML names (`query:`): no Python per report.

Each model in `from` is read through the reader's row scope (a line's through its document), limited to posted
documents and the period, filtered by parameters, grouped by paths and summed; the models' sums are added
with their signs (a return nets a sale) in Python, exactly, in Decimal.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, String, cast, func, literal, select, type_coerce
from sqlalchemy.orm import aliased

from app.meta.reports import ROW_COUNT
from app.meta.spec import FieldSpec, ModelSpec
from app.meta.status import Status
from reports.context import ReportContext
from reports.params import Period

ZERO = Decimal(0)


class _Paths:
    """Columns for paths over one model, joining the document and linked rows once each."""

    def __init__(self, ctx: ReportContext, model_key: str) -> None:
        self.ctx = ctx
        self.model = ctx.registry.model(model_key)
        self.cls = ctx.registry.cls(model_key)
        self.joins: dict[str, tuple[Any, Any]] = {}  # prefix -> (alias, on clause)

    def _hop(self, prefix: str, owner: Any, owner_model: ModelSpec, step: str) -> tuple[Any, ModelSpec]:
        # (alias, on clause) per source model and path prefix ("document", "item.category"), kept in the metadata
        # version's cache: an aliased class builds its column proxies on first use, which cost a run more Python
        # than the rest of it (the dashboard's eight grouped runs: 0.19 s of 1.1 s)
        known = self.ctx.registry.cache.setdefault(("report_joins", self.model.key), {})
        if prefix not in known:
            if step == "document":
                target = self.ctx.registry.model(owner_model.parent or "")
                alias = aliased(self.ctx.registry.cls(target.key))
                known[prefix] = (alias, alias.id == owner.parent_id)
            else:
                spec = owner_model.field(step)
                target = self.ctx.registry.model(spec.to or "")  # type: ignore[union-attr]
                alias = aliased(self.ctx.registry.cls(target.key))
                known[prefix] = (alias, alias.id == getattr(owner, spec.column))  # type: ignore[union-attr]
        self.joins.setdefault(prefix, known[prefix])
        alias = known[prefix][0]
        target_key = owner_model.parent if step == "document" else owner_model.field(step).to  # type: ignore[union-attr]
        return alias, self.ctx.registry.model(target_key or "")

    def field(self, path: str) -> tuple[Any, FieldSpec]:
        """The column a path ends in, and its field."""
        path = path.partition(":")[0]
        owner, owner_model = self.cls, self.model
        steps = path.split(".")
        for index, step in enumerate(steps[:-1]):
            owner, owner_model = self._hop(".".join(steps[: index + 1]), owner, owner_model, step)
        spec = owner_model.field(steps[-1])
        return getattr(owner, spec.column), spec  # type: ignore[union-attr]

    def column(self, path: str) -> Any:
        """The SQL for a path, time-bucketed when it says `:day`, `:week` or `:month`."""
        column, _ = self.field(path)
        bucket = path.partition(":")[2]
        return bucket_of(self.ctx, column, bucket) if bucket else column

    def document(self) -> Any:
        """The document class rows belong to (self for a document)."""
        if self.model.parent is None:
            return self.cls
        return self._hop("document", self.cls, self.model, "document")[0]

    def apply(self, stmt: Any) -> Any:
        """The statement with every join the paths needed."""
        for alias, on in self.joins.values():
            stmt = stmt.join(alias, on)
        return stmt


def bucket_of(ctx: ReportContext, column: Any, bucket: str) -> Any:
    """A date as its day, ISO week or month, as text sorting in time order, on both databases."""
    if ctx.dialect == "postgresql":
        pattern = {"day": "YYYY-MM-DD", "week": 'IYYY-"W"IW', "month": "YYYY-MM"}[bucket]
        return func.to_char(column, pattern)
    if bucket == "day":
        return cast(column, String)
    if bucket == "week":  # the ISO week as PostgreSQL's IYYY-"W"IW: the year and week of the week's Thursday
        thursday = func.date(column, "-3 days", "weekday 4")
        number = (cast(func.strftime("%j", thursday), Integer) - 1) / 7 + 1
        return func.printf("%s-W%02d", func.strftime("%Y", thursday), number)
    return func.strftime("%Y-%m", column)


def group_paths(ctx: ReportContext) -> dict[str, str]:
    """Column -> path the rows are grouped by (the chosen dimension included)."""
    query = ctx.report.query
    assert query is not None
    paths = dict(query.group)
    if query.group_param:
        choice = ctx.params.get(query.group_param) or next(iter(query.groups))
        paths["group"] = query.groups[choice]
    return paths


def run_query(ctx: ReportContext) -> list[dict[str, Any]]:
    """The report's rows: one per group, sums netted over its sources."""
    query = ctx.report.query
    assert query is not None

    def sums(paths: _Paths) -> dict[str, Any]:
        return {
            name: literal(1, Integer) if path == ROW_COUNT else paths.field(path)[0]
            for name, path in query.sums.items()
        }

    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for source in query.sources:
        add_grouped(ctx, merged, source.model, source.sign, sums)
    return list(merged.values())


def add_grouped(
    ctx: ReportContext,
    merged: dict[tuple[Any, ...], dict[str, Any]],
    model_key: str,
    sign: int,
    measures: Callable[[_Paths], dict[str, Any]],
    join: Callable[[_Paths, Any], Any] | None = None,
) -> None:
    """Add one model's sums per group into `merged` (times `sign`): the query's groups, posted documents, the
    period and the parameter filters; `measures` names the summed columns, `join` may join more (the ledger)."""
    query = ctx.report.query
    assert query is not None
    groups = group_paths(ctx)
    period = next((v for v in ctx.params.values() if isinstance(v, Period)), None)
    paths = _Paths(ctx, model_key)
    keys = [paths.column(path).label(f"g_{name}") for name, path in groups.items()]
    columns = measures(paths)
    sums = [type_coerce(func.sum(c), c.type).label(f"s_{name}") for name, c in columns.items()]
    stmt = select(*keys, *sums).select_from(paths.cls)
    conditions = []
    if query.posted_only and (paths.model.parent or paths.model.kind == "document"):
        conditions.append(paths.document().status == Status.SUBMITTED.value)
    if query.date and period is not None:
        date = paths.column(query.date.partition(":")[0])
        conditions += [date >= period.start, date <= period.end]
    for param, path in query.filters.items():
        value = ctx.params.get(param)
        if value is not None:
            conditions.append(paths.column(path) == value)
    stmt = paths.apply(stmt)
    if join is not None:
        stmt = join(paths, stmt)
    stmt = ctx.scoped(stmt.where(*conditions), model_key)
    if keys:
        stmt = stmt.group_by(*keys)
    for row in ctx.session.execute(stmt).mappings():
        key = tuple(row[f"g_{name}"] for name in groups)
        out = merged.setdefault(key, dict(zip(groups, key, strict=True)))
        for name in columns:
            out[name] = out.get(name, ZERO) + sign * Decimal(row[f"s_{name}"] or 0)
    _describe_groups(ctx, model_key, groups)


def _describe_groups(ctx: ReportContext, model_key: str, groups: dict[str, str]) -> None:
    """What the group columns hold, for the runner to show and drill by: the model (or 'user') a link-valued
    one points at (`ctx.link_targets`), the labels of a select-valued one (`ctx.choices`)."""
    paths = _Paths(ctx, model_key)
    for name, path in groups.items():
        if ":" in path:
            continue
        _, spec = paths.field(path)
        if spec.type == "user":
            ctx.link_targets[name] = "user"
        elif spec.type == "link":
            ctx.link_targets[name] = spec.to or ""
        elif spec.options:
            ctx.choices[name] = {option.value: option.label for option in spec.options}
