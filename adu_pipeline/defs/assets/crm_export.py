"""crm_export: the landing file itself, an external asset.

No raw-PII DataFrame passes through an IO manager: the landing sensor records a materialization
of this asset (path, size) when a file appears, and hashed_customers streams the file directly.
"""

import dagster as dg

from adu_pipeline.defs.definition import OWNERS
from adu_pipeline.defs.partitions import export_date_partitions

crm_export = dg.AssetSpec(
    "crm_export",
    partitions_def=export_date_partitions,
    group_name="landing",
    kinds={"file"},
    owners=OWNERS,
    description=(
        "The raw CRM export for one export date, as delivered to the landing folder "
        "(crm_export_YYYY-MM-DD.csv / .csv.gz / .parquet / .jsonl). Raw PII: never read into "
        "Dagster storage, never logged, never leaves the machine."
    ),
    metadata={"landing_pattern": "crm_export_{export_date}.{csv,csv.gz,parquet,jsonl}"},
)
