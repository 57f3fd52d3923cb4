"""Partitions: one per export date (daily) for the data path, one per segment for audiences."""

from __future__ import annotations

import os

import dagster as dg

from adu_pipeline.dataset import load_segments
from adu_pipeline.defs.project import segments_dir

DEFAULT_START_DATE = "2026-01-01"


def partition_start_date() -> str:
    return os.environ.get("ADU_PARTITION_START", "").strip() or DEFAULT_START_DATE


# end_offset=1: today's export is a valid partition the day it lands.
export_date_partitions = dg.DailyPartitionsDefinition(
    start_date=partition_start_date(), end_offset=1, timezone="UTC"
)


def segment_names() -> list[str]:
    folder = segments_dir()
    if not folder.is_dir():
        return []
    return [segment.key for segment in load_segments(folder)]


segment_partitions = dg.StaticPartitionsDefinition(segment_names())
