"""What the asset factories need to know about one dataset: its definition, where its files go,
which instances receive it, and how it is partitioned (FACT: daily; DIMENSION: not at all)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg

from adu_pipeline.dataset import DatasetDefinition
from adu_pipeline.settings import Settings

_DAILY: dict[str, dg.DailyPartitionsDefinition] = {}


def daily_partitions(start_date: str) -> dg.DailyPartitionsDefinition:
    """One definition per start date, shared by every FACT dataset (end_offset=1: today's export
    is a valid partition the day it lands)."""
    if start_date not in _DAILY:
        _DAILY[start_date] = dg.DailyPartitionsDefinition(
            start_date=start_date, end_offset=1, timezone="UTC"
        )
    return _DAILY[start_date]


@dataclass(frozen=True)
class DatasetPlan:
    defn: DatasetDefinition
    settings: Settings
    instances: tuple[Any, ...]  # InstanceDefinition of data/instances.yaml, in file order

    @property
    def id(self) -> str:
        return self.defn.id

    @property
    def partitioned(self) -> bool:
        """FACT datasets are daily; a DIMENSION list is one full replacement, never per date."""
        return self.defn.is_fact

    @cached_property
    def partitions(self) -> dg.DailyPartitionsDefinition | None:
        return daily_partitions(self.settings.partition_start) if self.partitioned else None

    @property
    def s3_prefix(self) -> str:
        own = self.defn.pipeline.s3_prefix
        return (own or f"{self.settings.s3_prefix.strip('/')}/{self.defn.id}").strip("/")

    def output_paths(self, partition_key: str | None) -> tuple[Path, Path]:
        folder = self.settings.output_dir / self.defn.id
        folder /= f"export_date={partition_key}" if partition_key else "full"
        return folder / "hashed.parquet", folder / "rejects.parquet"

    def partition_key(self, context: Any) -> str | None:
        return context.partition_key if self.partitioned else None
