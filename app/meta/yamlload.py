"""YAML loading that remembers line numbers and refuses duplicate keys."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class LineDict(dict):
    """A mapping from YAML that knows the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


@dataclass(frozen=True)
class YamlProblem:
    """A problem found while reading a YAML file."""

    line: int
    message: str


# libyaml's parser when present: ten times faster, so every start-up (and `jxc user add`) reads metadata quickly
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc]
    problems: list[YamlProblem]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:  # type: ignore[override]
        result = LineDict()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in result:
                self.problems.append(
                    YamlProblem(line, f"duplicate key '{key}' (first at line {result.key_lines[key]})")
                )
                continue
            result[key] = self.construct_object(value_node, deep=deep)
            result.key_lines[key] = line
        return result


_Loader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    lambda loader, node: loader.construct_mapping(node, deep=True),  # type: ignore[arg-type]
)


def load_yaml(path: Path) -> tuple[Any, list[YamlProblem]]:
    """Parse one YAML file; return its data and every problem found (syntax or duplicates)."""
    text = path.read_text(encoding="utf-8")
    loader = _Loader(text)
    loader.problems = []
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [YamlProblem(line, f"invalid YAML: {problem}")]
    finally:
        loader.dispose()
    return data, loader.problems


def line_of(mapping: Any, key: str | None = None) -> int:
    """The line of `key` in a mapping from load_yaml, or of the mapping itself."""
    if isinstance(mapping, LineDict):
        if key is not None and key in mapping.key_lines:
            return mapping.key_lines[key]
        return mapping.line
    return 0
