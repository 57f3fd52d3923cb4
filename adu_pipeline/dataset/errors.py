"""One line per problem, naming its key path: pydantic's errors turned into our messages.

Validators collect every problem of an object and raise them together (`raise_problems`), so a
file is reported whole; `problem_lines` renders a ValidationError without echoing long values.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from adu_pipeline.errors import AduError

Loc = tuple[str | int, ...]
MAX_SHOWN = 40  # longer values are named by their type, never echoed


class DefinitionError(AduError):
    """A dataset, segment or instances file breaks one or more rules; every problem listed."""

    def __init__(self, path: object, problems: Sequence[str], kind: str = "dataset definition"):
        self.path = str(path)
        self.problems = list(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"{self.path}: invalid {kind} ({count} {noun}): " + "; ".join(self.problems)
        )


class FileModel(BaseModel):
    """Base of the YAML models: frozen, unknown keys refused, YAML spelling as aliases."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    # key -> why it is refused, instead of the generic "unknown key" message
    refused_keys: typing.ClassVar[dict[str, str]] = {}


def shown(value: Any) -> str:
    """A value fit for a message: short strings quoted, anything else by its type."""
    if isinstance(value, str) and len(value) <= MAX_SHOWN:
        return repr(value)
    return type(value).__name__


def problem(loc: Loc, message: str) -> InitErrorDetails:
    """One problem at `loc` (relative to the object being validated)."""
    return InitErrorDetails(type=PydanticCustomError("rule", message), loc=loc, input=None)


def raise_problems(title: str, problems: Iterable[InitErrorDetails]) -> None:
    """Raise every collected problem at once (no-op when there is none)."""
    found = list(problems)
    if found:
        raise ValidationError.from_exception_data(title, found)


def details_of(exc: ValidationError) -> list[InitErrorDetails]:
    """A ValidationError's errors as details `raise_problems` accepts again (same type, location
    and input, so they render the same), to merge them with more problems."""
    out = []
    for error in exc.errors(include_url=False):
        kind, message = error["type"], error["msg"]
        if kind == "value_error":
            kind, message = "rule", str(error["ctx"]["error"])
        custom = PydanticCustomError(kind, message.replace("{", "{{").replace("}", "}}"))
        out.append(InitErrorDetails(type=custom, loc=error["loc"], input=error.get("input")))
    return out


def path_text(loc: Loc) -> str:
    """('columns', 3, 'dataType') -> 'columns[3].dataType'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def problem_lines(exc: ValidationError, model: type[BaseModel]) -> list[str]:
    """One line per error: `<key path>: <problem>`."""
    lines = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            parent, key = loc[:-1], str(loc[-1])
            owner = _model_at(model, parent)
            refused = getattr(owner, "refused_keys", {})
            if key in refused:
                lines.append(f"{path_text(loc)}: {refused[key]}")
                continue
            message = _unknown_key(owner, key)
            lines.append(f"{path_text(parent)}: {message}" if parent else message)
            continue
        message = _message(error, _field_at(model, loc))
        lines.append(f"{path_text(loc)}: {message}" if loc else message)
    return lines


def _unknown_key(model: type[BaseModel] | None, key: str) -> str:
    if model is None:
        return f"unknown key '{key}'"
    allowed = sorted(_keys(model))
    hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if not hint:
        hint = [a for a in allowed if a.lower() == key.replace("_", "").lower()]
    suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
    return f"unknown key '{key}'{suggestion}"


def _keys(model: type[BaseModel]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


def _message(error: Any, field: Any) -> str:
    kind, value = error["type"], error.get("input")
    choices = _choices(field)
    if kind == "rule":
        return error["msg"]
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "missing":
        return f"required (one of {', '.join(choices)})" if choices else "required"
    if kind in ("literal_error", "enum"):
        return f"{shown(value)} must be one of {', '.join(choices)}"
    if kind in ("string_type", "string_sub_type"):
        return "must be a string"
    if kind == "bool_type":
        return "must be true or false"
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return "must be a whole number"
    if kind in ("list_type", "tuple_type"):
        return "must be a list"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "must be a mapping (key: value lines)"
    if kind == "too_short":
        return "must not be empty"
    return f"invalid ({kind})"


def _choices(field: Any) -> list[str]:
    annotation = getattr(field, "annotation", None)
    for arg in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(arg) is typing.Literal:
            return [str(a) for a in typing.get_args(arg)]
        if isinstance(arg, type) and issubclass(arg, str) and hasattr(arg, "__members__"):
            return [str(m) for m in arg.__members__.values()]
    return []


def _model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model class validating the object at `loc` (following fields, skipping indexes)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = _find_field(current, str(part))
        if field is None:
            return None
        current = _inner_model(field.annotation)
        if current is None:
            return None
    return current


def _field_at(model: type[BaseModel], loc: Loc) -> Any:
    names = [p for p in loc if not isinstance(p, int)]
    if not names:
        return None
    owner = _model_at(model, loc[: max(i for i, p in enumerate(loc) if not isinstance(p, int))])
    return _find_field(owner, str(names[-1])) if owner else None


def _find_field(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info
    return None


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
