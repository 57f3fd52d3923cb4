"""Reading the YAML files users write: strict (duplicate keys are errors) and value-free errors."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml

from adu_pipeline.dataset.model import DefinitionError


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys instead of silently keeping the last one."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml_mapping(path: str | Path, kind: str) -> dict[str, Any]:
    """Load one YAML file that must hold a mapping; any problem is a DefinitionError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefinitionError(path, ["file not found"], kind) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(path, [f"cannot read file ({type(exc).__name__})"], kind) from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise DefinitionError(path, [_yaml_problem(exc)], kind) from None
    if not isinstance(data, dict):
        raise DefinitionError(path, ["the file must hold a YAML mapping (key: value lines)"], kind)
    return data


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or "malformed YAML"
    return f"YAML syntax error{where}: {problem}"


def unknown_key_problems(prefix: str, data: dict[str, Any], allowed: set[str]) -> list[str]:
    """One problem per key outside `allowed`, with a spelling suggestion when one is close."""
    problems = []
    for key in data:
        if key in allowed:
            continue
        hint = difflib.get_close_matches(str(key), sorted(allowed), n=1, cutoff=0.6)
        if not hint:
            hint = [a for a in allowed if a.lower() == str(key).replace("_", "").lower()]
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        problems.append(f"{prefix}unknown key '{key}'{suggestion}")
    return problems
