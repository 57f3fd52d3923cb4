"""YAML reading for definitions: strict (duplicate keys are errors) and value-free errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from adu_pipeline.dataset.errors import DefinitionError, problem_lines

M = TypeVar("M", bound=BaseModel)


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


def validate(model: type[M], data: dict[str, Any], path: object, kind: str) -> M:
    """`model` from parsed YAML; every problem becomes one line of a DefinitionError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(path, problem_lines(exc, model), kind) from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or "malformed YAML"
    return f"YAML syntax error{where}: {problem}"
