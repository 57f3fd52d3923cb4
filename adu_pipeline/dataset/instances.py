"""The AMC instances this project uploads to (data/instances.yaml), named by key everywhere else.

Datasets list the instances that receive them (`pipeline.instances`), segments name the one they
run in (`instance`); offline, the local AMC emulator serves exactly these instances.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Literal

from pydantic import StrictStr, field_validator, model_validator

from adu_pipeline.dataset.errors import FileModel, problem, raise_problems
from adu_pipeline.dataset.yaml_io import read_yaml_mapping, validate

KIND = "instances file"
KEY_PATTERN = re.compile(r"^[a-z0-9_]+$")
ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")  # instance, account and marketplace ids


class InstanceDefinition(FileModel):
    """One AMC instance: where it lives (region picks the Ads API host and token URL), the AMC
    account it belongs to, and the DSP advertisers linked to it."""

    key: StrictStr
    region: Literal["NA", "EU", "FE"]
    instance_id: StrictStr
    account_id: StrictStr  # sent as Amazon-Advertising-API-AdvertiserId
    marketplace_id: StrictStr
    dsp_advertisers: tuple[StrictStr, ...] = ()
    description: StrictStr = ""

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not KEY_PATTERN.match(value):
            raise ValueError("must be lowercase letters, digits and '_'")
        return value

    @field_validator("instance_id", "account_id", "marketplace_id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError("must be letters, digits, '_', '.' or '-' (no spaces)")
        return value

    @field_validator("dsp_advertisers", mode="before")
    @classmethod
    def _advertisers(cls, value: Any) -> Any:
        """YAML reads an unquoted advertiser id as a number: accept it as its digits."""
        if isinstance(value, list):
            return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
        return value

    @field_validator("description", mode="before")
    @classmethod
    def _description(cls, value: Any) -> Any:
        return "" if value is None else value


class InstancesFile(FileModel):
    """data/instances.yaml: at least one instance; keys and instance ids unique."""

    instances: tuple[InstanceDefinition, ...]

    @field_validator("instances")
    @classmethod
    def _not_empty(cls, value: tuple[InstanceDefinition, ...]) -> tuple[InstanceDefinition, ...]:
        if not value:
            raise ValueError("must list at least one instance")
        return value

    @model_validator(mode="after")
    def _unique(self) -> InstancesFile:
        found = []
        for field in ("key", "instance_id"):
            seen: dict[str, list[int]] = defaultdict(list)
            for index, instance in enumerate(self.instances):
                seen[getattr(instance, field)].append(index)
            for value, indexes in seen.items():
                for index in indexes[1:]:
                    found.append(
                        problem(
                            ("instances", index, field),
                            f"'{value}' is also the {field} of instances[{indexes[0]}]",
                        )
                    )
        raise_problems(type(self).__name__, found)
        return self


def load_instances(path: str | Path) -> tuple[InstanceDefinition, ...]:
    """The instances of one file, in file order (the first is the default); raises
    DefinitionError listing every problem."""
    return validate(InstancesFile, read_yaml_mapping(path, KIND), path, KIND).instances
