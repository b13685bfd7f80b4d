"""The declarative grouped query a report's YAML names (`query:`): no Python per report.

Each model in `from` is read through the reader's row scope (a line's through its document), limited to posted
documents and the period, filtered by parameters, grouped by paths and summed; the models' sums are added
with their signs (a return nets a sale) in Python, exactly, in Decimal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, String, bindparam, cast, func, literal, literal_column, select, type_coerce, union_all
from sqlalchemy.orm import aliased

from app.meta.reports import ROW_COUNT
from app.meta.spec import FieldSpec, ModelSpec
from app.meta.status import Status
from reports.context import ReportContext
from reports.params import BLANK, Period

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
    add_sources(ctx, merged, [(source.model, source.sign) for source in query.sources], sums)
    return list(merged.values())


def add_grouped(
    ctx: ReportContext,
    merged: dict[tuple[Any, ...], dict[str, Any]],
    model_key: str,
    sign: int,
    measures: Callable[[_Paths], dict[str, Any]],
    join: Callable[[_Paths, Any], Any] | None = None,
    kind: str = "sums",
) -> None:
    """Add one model's sums per group into `merged` (times `sign`): `add_sources` of one source."""
    add_sources(ctx, merged, [(model_key, sign)], measures, join, kind)


def add_sources(
    ctx: ReportContext,
    merged: dict[tuple[Any, ...], dict[str, Any]],
    sources: Sequence[tuple[str, int]],
    measures: Callable[[_Paths], dict[str, Any]],
    join: Callable[[_Paths, Any], Any] | None = None,
    kind: str = "sums",
) -> None:
    """Add each source model's sums per group into `merged` (times its sign): the query's groups, posted
    documents, the period and the parameter filters; `measures` names the summed columns, `join` may join more
    (the ledger). One statement for all the sources (UNION ALL of one grouped SELECT each, each in the reader's
    row scope of its model), the rows added up here, exactly.

    The statements are built once per metadata version and shape (report, models, `kind` of measures, grouping,
    which filters are given), their values (the period, the filters) parameters, and kept in the version's
    cache: SQLAlchemy neither builds them nor works out their cache key again when the reader has no row scope
    on the models; a reader's scope is added to each on each run (`kind` names what `measures` and `join` sum,
    one per caller of a report's statements)."""
    query = ctx.report.query
    assert query is not None
    groups = group_paths(ctx)
    period = next((v for v in ctx.params.values() if isinstance(v, Period)), None)
    # (param, asked for blank): a blank filter is `IS NULL`, a statement of its own shape
    given = tuple((param, ctx.params[param] is BLANK) for param in query.filters if ctx.params.get(param) is not None)
    models = tuple(model for model, _ in sources)
    key = ("report_stmt", ctx.dialect, ctx.report.key, models, kind, tuple(groups.items()), period is not None, given)
    cache = ctx.registry.cache
    if key not in cache:
        built = [
            _grouped_statement(ctx, index, model, groups, period is not None, given, measures, join)
            for index, model in enumerate(models)
        ]
        cache[key] = (built, _together([stmt for stmt, *_ in built]))
    built, together = cache[key]
    values = {f"f_{param}": ctx.params[param] for param, blank in given if not blank}
    if period is not None:
        values |= {"period_start": period.start, "period_end": period.end}
    scoped = [ctx.scoped(stmt, model) for (stmt, *_), model in zip(built, models, strict=True)]
    if together is None:  # sources whose columns differ in type: one statement each
        rows = [row for stmt in scoped for row in ctx.session.execute(stmt, values)]
    elif all(mine is stmt for mine, (stmt, *_) in zip(scoped, built, strict=True)):
        rows = list(ctx.session.execute(together, values))
    else:
        rows = list(ctx.session.execute(_together(scoped), values))
    names = built[0][1]
    width = len(groups) + 1  # the source's index, then the group columns
    for row in rows:
        sign = sources[row[0]][1]
        out = merged.setdefault(row[1:width], dict(zip(groups, row[1:width], strict=True)))
        for index, name in enumerate(names, width):
            value = row[index]
            if value is not None:
                out[name] = out.get(name, ZERO) + sign * (value if isinstance(value, Decimal) else Decimal(value))
            elif name not in out:
                out[name] = ZERO
    for _, _, link_targets, choices in built:
        ctx.link_targets.update(link_targets)
        ctx.choices.update(choices)


def _together(statements: list[Any]) -> Any:
    """The sources' statements as one (UNION ALL), or the one; None when their columns' types differ (a union's
    values are read as its first SELECT's types, which SQLite's scaled decimals must not be)."""
    if len(statements) == 1:
        return statements[0]
    types = [[(type(c.type), getattr(c.type, "scale", None)) for c in s.selected_columns] for s in statements]
    return union_all(*statements) if all(t == types[0] for t in types) else None


def _grouped_statement(
    ctx: ReportContext,
    index: int,
    model_key: str,
    groups: dict[str, str],
    dated: bool,
    given: tuple[tuple[str, bool], ...],
    measures: Callable[[_Paths], dict[str, Any]],
    join: Callable[[_Paths, Any], Any] | None,
) -> tuple[Any, tuple[str, ...], dict[str, str], dict[str, dict[str, dict[str, str]]]]:
    """(statement without the row scope, its measures' names, link targets, choices) for `add_sources`: the
    source's `index` first, then the group columns and the sums."""
    query = ctx.report.query
    assert query is not None
    paths = _Paths(ctx, model_key)
    keys = [paths.column(path).label(f"g_{name}") for name, path in groups.items()]
    columns = measures(paths)
    sums = [type_coerce(func.sum(c), c.type).label(f"s_{name}") for name, c in columns.items()]
    stmt = select(literal_column(str(index), Integer).label("source"), *keys, *sums).select_from(paths.cls)
    conditions = []
    if query.posted_only and (paths.model.parent or paths.model.kind == "document"):
        conditions.append(paths.document().status == Status.SUBMITTED.value)
    if query.date and dated:
        date = paths.column(query.date.partition(":")[0])
        conditions += [
            date >= bindparam("period_start", type_=date.type),
            date <= bindparam("period_end", type_=date.type),
        ]
    for param, blank in given:
        column = paths.column(query.filters[param])
        conditions.append(column.is_(None) if blank else column == bindparam(f"f_{param}", type_=column.type))
    stmt = paths.apply(stmt)
    if join is not None:
        stmt = join(paths, stmt)
    stmt = stmt.where(*conditions)
    if keys:
        # a day is its date as text, one to one: grouped by the date, the text is made once a group, not a row
        by = [
            paths.field(path)[0] if path.endswith(":day") else key
            for key, path in zip(keys, groups.values(), strict=True)
        ]
        stmt = stmt.group_by(*by)
    described = ReportContext(ctx.session, ctx.access, ctx.report, ctx.params)
    _describe_groups(described, model_key, groups)
    return stmt, tuple(columns), described.link_targets, described.choices


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
