"""Reports declared in metadata/reports/<name>.yaml: parameters, columns, chart, drill-down and the source.

The source is either a declarative grouped query over the models (`query:`) or a named handler in
`reports/` (`handler: reports.stock.inventory_summary`). Everything is checked when metadata loads, so
`jxc meta check` and start-up fail on a bad report with its file and line.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.meta.common import Collector, hint, texts
from app.meta.handlers import resolve_path
from app.meta.spec import FIGURES, FieldSpec, ModelSpec, RoleSpec
from app.meta.yamlload import line_of, load_yaml

ROW_COUNT = "*"  # as a sum's path: how many rows (complaints per type)
PARAM_TYPES = ("date_range", "date", "link", "user", "select", "integer")
COLUMN_TYPES = ("text", "link", "user", "date", "quantity", "money", "decimal", "integer", "percent", "group")
CHARTS = ("line", "bar", "stacked_bar", "pie")
PRESETS = ("this_month", "last_month", "this_quarter", "this_year")
BUCKETS = ("day", "week", "month")
REPORT_OPTIONS = {
    "label",
    "help",
    "about",
    "sources",
    "params",
    "columns",
    "chart",
    "drill",
    "query",
    "handler",
    "order",
    "job",
    "letterhead",
}
NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
HELP_SLOT = re.compile(r"\{([a-z][a-z0-9_]*)\}")  # `{by}` in a report's help: the options of `by` its reader is offered


@dataclass(frozen=True)
class ReportParam:
    """One filter of a report: a date range with presets, a link to a model (by business key), a choice."""

    name: str
    type: str
    label: dict[str, str]
    to: str | None = None
    options: tuple[tuple[str, dict[str, str]], ...] = ()
    default: Any = None
    required: bool = False


@dataclass(frozen=True)
class ReportColumn:
    """One column of the answer; `figures` are the kinds of figure it reveals (a role hiding one drops it)."""

    name: str
    type: str
    label: dict[str, str]
    figures: frozenset[str] = frozenset()
    total: bool = False
    key: bool = False  # a grouping key: frozen on the left of the grid
    to: str | None = None
    scale: int = 2
    # figures that depend on a parameter: (param, {option: kinds}), e.g. an ABC class by value reveals sale
    # figures, by margin sale and cost (`figure: {by: {value: sale, margin: [sale, cost]}}`)
    figures_by: tuple[str, dict[str, frozenset[str]]] | None = None

    def figures_for(self, params: dict[str, Any]) -> frozenset[str]:
        """The kinds of figure this column reveals in a run with these parameters."""
        if self.figures_by is None:
            return self.figures
        param, by_option = self.figures_by
        value = params.get(param)
        if value in by_option:
            return self.figures | by_option[value]
        return self.figures.union(*by_option.values())  # unknown: everything it could reveal


@dataclass(frozen=True)
class ChartSpec:
    """The default chart: its type, the column along x and the columns drawn."""

    type: str
    x: str
    series: tuple[str, ...]


@dataclass(frozen=True)
class DrillSpec:
    """Where a row leads: another report (its params from the row's columns or this report's params), or the
    document a row names (model and number columns)."""

    report: str | None = None
    params: dict[str, str] = field(default_factory=dict)  # target param -> column, "@param" of this report, "=value"
    document: tuple[str, str] | None = None
    # a grouped report's `group` column: its grouping option -> the target param its value goes to (a day, week
    # or month bucket goes to a date range: `{customer: partner, month: period}`)
    group: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class QuerySource:
    """One model a declarative query reads, with the sign its sums carry (returns net sales)."""

    model: str
    sign: int = 1


@dataclass(frozen=True)
class QuerySpec:
    """A grouped query: rows of `sources` (posted documents' lines), within the period on `date`,
    filtered by parameters, grouped by paths, summing paths."""

    sources: tuple[QuerySource, ...]
    date: str | None
    filters: dict[str, str]  # param -> path
    group: dict[str, str]  # column -> path ("document.partner", "item.category", "document.date:month")
    group_param: str | None  # a select param choosing one of `groups` for the column `group`
    groups: dict[str, str]
    sums: dict[str, str]  # column -> path
    posted_only: bool = True


@dataclass(frozen=True)
class ReportSpec:
    """A report as metadata declares it."""

    key: str
    label: dict[str, str]
    help: dict[str, str]
    sources: dict[str, tuple[str, ...]]  # model -> fields the reader must see to run it
    params: tuple[ReportParam, ...]
    columns: tuple[ReportColumn, ...]
    chart: ChartSpec | None = None
    drill: DrillSpec | None = None
    query: QuerySpec | None = None
    handler: str | None = None
    function: Callable[..., Any] | None = None
    order: tuple[str, ...] = ()
    source: str = ""
    job: tuple[str, dict[str, str]] | None = None  # (job kind, button label): the report page may start it
    # the kinds of figure the report is about (gross profit: sale and cost): a reader who hides one of them is not
    # offered the report at all, where other hidden columns are only dropped (its name would promise a figure
    # they may not see, and what is left is another report's)
    about: frozenset[str] = frozenset()
    # printed for a partner to read (对账单): the company heads it, as it heads a printed 单据 (app/meta/company.py)
    letterhead: bool = False

    def param(self, name: str) -> ReportParam | None:
        """The parameter called `name`, or None."""
        return next((p for p in self.params if p.name == name), None)

    def column(self, name: str) -> ReportColumn | None:
        """The column called `name`, or None."""
        return next((c for c in self.columns if c.name == name), None)

    def option_figures(self, param: str, value: str) -> frozenset[str]:
        """The kinds of figure the columns reveal only when the select parameter `param` is `value` (ABC by
        margin: sale and cost)."""
        return frozenset().union(
            *(c.figures_by[1].get(value, ()) for c in self.columns if c.figures_by and c.figures_by[0] == param)
        )


def resolve_model_path(models: dict[str, ModelSpec], model_key: str, path: str) -> str | None:
    """The problem with a path over a model ('item', 'document.partner', 'item.category', 'document.date:month'),
    or None when every step names a field."""
    found = path_end(models, model_key, path)
    return found if isinstance(found, str) else None


def path_end(models: dict[str, ModelSpec], model_key: str, path: str) -> tuple[ModelSpec, FieldSpec] | str:
    """The model and field a path over a model ends in (`document.salesperson` of a sales line: the delivery's
    salesperson), or the problem with the path."""
    path, _, bucket = path.partition(":")
    if bucket and bucket not in BUCKETS:
        return f"unknown time bucket '{bucket}'"
    model = models.get(model_key)
    steps = path.split(".")
    spec: FieldSpec | None = None
    for index, step in enumerate(steps):
        if model is None:
            return f"'{path}' leaves the models"
        if step == "document" and index < len(steps) - 1 and model.parent:
            model = models.get(model.parent)
            continue
        spec = model.field(step)
        if spec is None:
            return f"'{model.key}' has no field '{step}'"
        if index < len(steps) - 1:
            if spec.type != "link":
                return f"'{step}' of '{model.key}' is not a link"
            model = models.get(spec.to or "")
    assert model is not None and spec is not None
    return model, spec


def _params(raw: Any, models: dict[str, ModelSpec], where: str, out: Collector) -> tuple[ReportParam, ...]:
    params = []
    for name, spec in (raw or {}).items():
        if not isinstance(spec, dict) or spec.get("type") not in PARAM_TYPES:
            out.add(where, f"param '{name}': type must be one of {', '.join(PARAM_TYPES)}")
            continue
        label = texts(spec.get("label"))
        if label is None:
            out.add(where, f"param '{name}': label needs zh and en")
            continue
        to = spec.get("to")
        if spec["type"] == "link" and to not in models:
            out.add(where, f"param '{name}': links to missing model '{to}'", hint(str(to), models))
        options: list[tuple[str, dict[str, str]]] = _field_options(spec.get("options_from"), models, name, where, out)
        for option in spec.get("options") or []:
            option_label = texts(option.get("label")) if isinstance(option, dict) else None
            if option_label is None or not isinstance(option.get("value"), str):
                out.add(where, f"param '{name}': an option needs value and label {{zh, en}}")
                continue
            options.append((option["value"], option_label))
        default = spec.get("default")
        if spec["type"] == "date_range" and default is not None and default not in PRESETS:
            out.add(where, f"param '{name}': default must be a preset", hint(str(default), PRESETS))
        if spec["type"] == "select" and default is not None and default not in [v for v, _ in options]:
            out.add(where, f"param '{name}': default '{default}' is not an option")
        params.append(ReportParam(name, spec["type"], label, to, tuple(options), default, bool(spec.get("required"))))
    return tuple(params)


def _field_options(
    path: Any, models: dict[str, ModelSpec], name: str, where: str, out: Collector
) -> list[tuple[str, dict[str, str]]]:
    """A select parameter's choices taken from a select field (`options_from: model.field`): one list of
    reasons, types or statuses, the field's, never a copy that drifts from it."""
    if path is None:
        return []
    model_key, _, field_name = str(path).partition(".")
    model = models.get(model_key)
    field = model.field(field_name) if model is not None else None
    if field is None or not field.options:
        out.add(where, f"param '{name}': options_from '{path}' is not a select field (model.field)")
        return []
    return [(option.value, dict(option.label)) for option in field.options]


def _columns(
    raw: Any, models: dict[str, ModelSpec], params: tuple[ReportParam, ...], where: str, out: Collector
) -> tuple[ReportColumn, ...]:
    columns = []
    if not isinstance(raw, dict) or not raw:
        out.add(where, "a report needs columns", "columns: {item: {type: link, to: item, label: {zh: 商品, en: Item}}}")
        return ()
    for name, spec in raw.items():
        if not isinstance(spec, dict) or spec.get("type") not in COLUMN_TYPES:
            out.add(where, f"column '{name}': type must be one of {', '.join(COLUMN_TYPES)}")
            continue
        label = texts(spec.get("label"))
        if label is None:
            out.add(where, f"column '{name}': label needs zh and en")
            continue
        figure = spec.get("figure") or []
        figures_by = None
        if isinstance(figure, dict):
            figures_by = _figures_by(name, figure, params, where, out)
            figure = []
        figures = [figure] if isinstance(figure, str) else figure
        for kind in figures:
            if kind not in FIGURES:
                out.add(where, f"column '{name}': unknown figure '{kind}'", hint(str(kind), FIGURES))
        if spec["type"] == "money" and not figures and not figures_by:
            out.add(
                where, f"column '{name}': a money column must say what figure it is", "figure: " + "|".join(FIGURES)
            )
        if spec["type"] == "link" and spec.get("to") not in models:
            out.add(where, f"column '{name}': links to missing model '{spec.get('to')}'")
        columns.append(
            ReportColumn(
                name,
                spec["type"],
                label,
                frozenset(k for k in figures if k in FIGURES),
                bool(spec.get("total")),
                bool(spec.get("key")),
                spec.get("to"),
                int(spec.get("scale", 2)),
                figures_by,
            )
        )
    return tuple(columns)


def _figures_by(
    name: str, raw: dict[str, Any], params: tuple[ReportParam, ...], where: str, out: Collector
) -> tuple[str, dict[str, frozenset[str]]] | None:
    """`figure: {param: {option: kind or [kinds]}}`: the kinds a column reveals follow a select parameter."""
    selects = {p.name: p for p in params if p.type == "select"}
    if len(raw) != 1 or next(iter(raw)) not in selects or not isinstance(next(iter(raw.values())), dict):
        out.add(where, f"column '{name}': figure by parameter must be {{select_param: {{option: kinds}}}}")
        return None
    param, choices = next(iter(raw.items()))
    options = {value for value, _ in selects[param].options}
    by_option: dict[str, frozenset[str]] = {}
    for option, kinds in choices.items():
        kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
        for kind in kinds:
            if kind not in FIGURES:
                out.add(where, f"column '{name}': unknown figure '{kind}'", hint(str(kind), FIGURES))
        by_option[option] = frozenset(k for k in kinds if k in FIGURES)
    if set(by_option) != options:
        out.add(
            where, f"column '{name}': figure by '{param}' must name each of its options: {', '.join(sorted(options))}"
        )
    return param, by_option


def _query(
    raw: dict[str, Any], params: tuple[ReportParam, ...], models: dict[str, ModelSpec], where: str, out: Collector
) -> QuerySpec | None:
    sources = []
    for entry in raw.get("from") or []:
        model, sign = (entry, 1) if isinstance(entry, str) else (entry.get("model"), entry.get("sign", 1))
        if model not in models or sign not in (1, -1):
            out.add(where, f"query: '{model}' is not a model (or its sign is not 1 / -1)", hint(str(model), models))
            continue
        sources.append(QuerySource(model, sign))
    if not sources:
        out.add(where, "query needs from: [model, {model: ..., sign: -1}]")
        return None
    paths: dict[str, str] = {}
    for section in ("filters", "group", "groups", "sums"):
        for name, path in (raw.get(section) or {}).items():
            paths[f"{section} {name}"] = path
    if raw.get("date"):
        paths["date"] = raw["date"]
    for label, path in paths.items():
        if label.startswith("sums ") and path == ROW_COUNT:
            continue
        for source in sources:
            problem = resolve_model_path(models, source.model, str(path))
            if problem:
                out.add(where, f"query {label}: {problem}")
    names = {p.name for p in params}
    for param in raw.get("filters") or {}:
        if param not in names:
            out.add(where, f"query filters: '{param}' is not a param", hint(param, names))
    group_param = raw.get("group_param")
    if group_param is not None and group_param not in names:
        out.add(where, f"query group_param: '{group_param}' is not a param", hint(group_param, names))
    return QuerySpec(
        sources=tuple(sources),
        date=raw.get("date"),
        filters=dict(raw.get("filters") or {}),
        group=dict(raw.get("group") or {}),
        group_param=group_param,
        groups=dict(raw.get("groups") or {}),
        sums=dict(raw.get("sums") or {}),
        posted_only=raw.get("posted_only", True) is not False,
    )


def _load_report(path: Path, root: Path, models: dict[str, ModelSpec], out: Collector) -> ReportSpec | None:
    rel = f"{root.name}/reports/{path.name}"
    data, problems = load_yaml(path)
    for problem in problems:
        out.add(f"{rel}:{problem.line}", problem.message)
    if not isinstance(data, dict):
        out.add(f"{rel}:1", "a report must be a mapping")
        return None
    where = f"{rel}:1"
    key = path.stem
    if not NAME_RE.fullmatch(key):
        out.add(where, f"report name '{key}' is not valid", "lower-case letters, digits and _")
    for option in data:
        if option not in REPORT_OPTIONS:
            out.add(f"{rel}:{line_of(data, option)}", f"unknown option '{option}'", hint(option, REPORT_OPTIONS))
    label = texts(data.get("label"))
    if label is None:
        out.add(where, "label needs zh and en")
    params = _params(data.get("params"), models, f"{rel}:{line_of(data, 'params')}", out)
    columns = _columns(data.get("columns"), models, params, f"{rel}:{line_of(data, 'columns')}", out)
    sources: dict[str, tuple[str, ...]] = {}
    for model_key, fields in (data.get("sources") or {}).items():
        swhere = f"{rel}:{line_of(data, 'sources')}"
        if model_key not in models:
            out.add(swhere, f"sources: '{model_key}' is not a model", hint(model_key, models))
            continue
        for name in fields or []:
            if models[model_key].field(name) is None:
                out.add(swhere, f"sources: '{model_key}' has no field '{name}'")
        sources[model_key] = tuple(fields or ())
    query = None
    function = None
    handler = data.get("handler")
    if handler is None and data.get("query") is None:
        out.add(where, "a report needs query: or handler: (or both)", "handler: reports.stock.inventory_summary")
    if handler is not None:
        try:
            function = resolve_path(str(handler))
        except (ImportError, AttributeError, ValueError) as exc:
            out.add(f"{rel}:{line_of(data, 'handler')}", f"handler '{handler}' cannot be imported: {exc}")
    if isinstance(data.get("query"), dict):
        query = _query(data["query"], params, models, f"{rel}:{line_of(data, 'query')}", out)
        for source in query.sources if query else ():
            sources.setdefault(models[source.model].permission_model, ())
    chart = _chart(data.get("chart"), columns, f"{rel}:{line_of(data, 'chart')}", out)
    about = _about(data.get("about"), columns, f"{rel}:{line_of(data, 'about')}", out)
    drill = _drill(data.get("drill"), columns, params, f"{rel}:{line_of(data, 'drill')}", out)
    if not sources:
        out.add(where, "a report needs sources: {model: [fields]} (what the reader must be able to read)")
    selects = {p.name for p in params if p.type == "select"}
    for slot in sorted({slot for text in (texts(data.get("help")) or {}).values() for slot in HELP_SLOT.findall(text)}):
        if slot not in selects:  # the reader would read "{slot}"
            out.add(
                f"{rel}:{line_of(data, 'help')}", f"help: '{{{slot}}}' names no select parameter", hint(slot, selects)
            )
    if not isinstance(data.get("letterhead", False), bool):
        out.add(f"{rel}:{line_of(data, 'letterhead')}", "letterhead: true or false (the company heads its print)")
    job = None
    if data.get("job") is not None:
        raw_job = data["job"]
        job_label = texts(raw_job.get("label")) if isinstance(raw_job, dict) else None
        if job_label is None or not isinstance(raw_job.get("kind"), str):
            out.add(f"{rel}:{line_of(data, 'job')}", "job: {kind: a job kind, label: {zh, en}} (a button on the page)")
        else:
            job = (raw_job["kind"], job_label)
    return ReportSpec(
        key=key,
        label=label or {"zh": key, "en": key},
        help=texts(data.get("help")) or {},
        sources=sources,
        params=params,
        columns=columns,
        chart=chart,
        drill=drill,
        query=query,
        handler=handler,
        function=function,
        order=tuple(data.get("order") or ()),
        source=where,
        job=job,
        about=about,
        letterhead=data.get("letterhead") is True,
    )


def _about(raw: Any, columns: tuple[ReportColumn, ...], where: str, out: Collector) -> frozenset[str]:
    """`about: [sale, cost]`: kinds of figure, each revealed by one of the report's columns."""
    kinds = [raw] if isinstance(raw, str) else raw or []
    if not isinstance(kinds, list):
        out.add(where, "about: a kind of figure or a list of them", "about: [sale, cost]")
        return frozenset()
    shown = frozenset().union(*(c.figures_for({}) for c in columns))
    for kind in kinds:
        if kind not in FIGURES:
            out.add(where, f"about: unknown figure '{kind}'", hint(str(kind), FIGURES))
        elif kind not in shown:
            out.add(where, f"about: no column of the report shows a {kind} figure")
    return frozenset(k for k in kinds if k in FIGURES)


def _chart(raw: Any, columns: tuple[ReportColumn, ...], where: str, out: Collector) -> ChartSpec | None:
    if raw is None:
        return None
    names = {c.name for c in columns}
    if not isinstance(raw, dict) or raw.get("type") not in CHARTS:
        out.add(where, "chart: type must be one of " + ", ".join(CHARTS))
        return None
    series = tuple(raw.get("series") or ())
    for name in (raw.get("x"), *series):
        if name not in names:
            out.add(where, f"chart: '{name}' is not a column", hint(str(name), names))
    return ChartSpec(raw["type"], str(raw.get("x")), series)


def _drill(
    raw: Any, columns: tuple[ReportColumn, ...], params: tuple[ReportParam, ...], where: str, out: Collector
) -> DrillSpec | None:
    if raw is None:
        return None
    names = {c.name for c in columns}
    if not isinstance(raw, dict):
        out.add(where, "drill must be a mapping: {report: name, params: {...}} or {document: [model, number]}")
        return None
    document = raw.get("document")
    if document is not None:
        if not (isinstance(document, list) and len(document) == 2 and all(isinstance(d, str) for d in document)):
            out.add(where, "drill document: the two values of a row naming the model and the number")
            return None
        return DrillSpec(document=(document[0], document[1]))
    mapping = dict(raw.get("params") or {})
    for target, value in mapping.items():
        value = str(value)
        ok = value[1:] in {p.name for p in params} if value.startswith("@") else value.startswith("=") or value in names
        if not ok:
            out.add(where, f"drill param '{target}': '{value}' is neither a column, @param nor =value")
    group = raw.get("group") or {}
    if not isinstance(group, dict) or (group and "group" not in names):
        out.add(where, "drill group: {grouping option: target param} for a report with a `group` column")
        group = {}
    options = {value for p in params for value, _ in p.options}
    for option in group:
        if option not in options:
            out.add(where, f"drill group: '{option}' is not an option of this report's grouping", hint(option, options))
    return DrillSpec(report=raw.get("report"), params=mapping, group={str(k): str(v) for k, v in group.items()})


def load_reports(
    root: Path, models: dict[str, ModelSpec], roles: dict[str, RoleSpec], out: Collector
) -> dict[str, ReportSpec]:
    """metadata/reports/*.yaml, each checked against the models; roles' `reports:` names checked too."""
    folder = root / "reports"
    reports: dict[str, ReportSpec] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        report = _load_report(path, root, models, out)
        if report is not None:
            reports[report.key] = report
    for report in reports.values():
        drill = report.drill
        if drill is not None and drill.report is not None:
            target = reports.get(drill.report)
            if target is None:
                out.add(report.source, f"drill: report '{drill.report}' does not exist", hint(drill.report, reports))
            else:
                for name in {*drill.params, *drill.group.values()}:
                    if target.param(name) is None:
                        out.add(report.source, f"drill: report '{drill.report}' has no param '{name}'")
    for role in roles.values():
        for pattern in role.reports:
            if not fnmatch.filter(reports, pattern):
                out.add(
                    f"{root.name}/roles.yaml",
                    f"role '{role.key}': report '{pattern}' matches no report",
                    hint(pattern, reports),
                )
        for report in reports.values():  # a row that drills into a report its reader may not run leads nowhere
            drill = report.drill
            if drill is not None and drill.report in reports and role.runs(report.key) and not role.runs(drill.report):
                out.add(
                    f"{root.name}/roles.yaml",
                    f"role '{role.key}': runs '{report.key}' but not '{drill.report}', which its rows drill into",
                )
            hidden = report.about & role.hidden_figures
            if report.key in role.reports and hidden:  # named, not matched by a glob: it would never be offered
                out.add(
                    f"{root.name}/roles.yaml",
                    f"role '{role.key}': lists '{report.key}', which is about {', '.join(sorted(hidden))} figures"
                    " the role hides",
                )
    return reports
