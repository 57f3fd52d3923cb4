"""amc_dataset: the AMC dataset exists and equals the definition.

First run creates it; later runs add new nullable columns and fail with a precise diff for any
other difference. Nothing is ever deleted (a deleted AMC dataset loses all its data).
"""

import dagster as dg

from adu_pipeline.amc import AmcApiError
from adu_pipeline.dataset import add_column_body, definition_diff
from adu_pipeline.defs.definition import OWNERS, definition_at
from adu_pipeline.defs.resources import AmcResource, PipelineSettings
from adu_pipeline.defs.retries import AMC_RETRY_POLICY, amc_failure

AMC_POOL = "amc_api"


@dg.asset(
    group_name="amc",
    kinds={"amazon"},
    owners=OWNERS,
    pool=AMC_POOL,
    retry_policy=AMC_RETRY_POLICY,
    description=(
        "The AMC dataset declared by the dataset definition: created once, extended with new "
        "nullable columns, never deleted; any other drift fails with the diff."
    ),
)
def amc_dataset(
    context: dg.AssetExecutionContext, settings: PipelineSettings, amc: AmcResource
) -> dg.MaterializeResult:
    defn = definition_at(settings.path(settings.dataset_path))
    with amc.client() as client:
        try:
            existing = client.find_dataset(defn.id)
            created = added = 0
            if existing is None:
                client.create_dataset(defn.create_body())
                created = 1
                context.log.info(f"created AMC dataset {defn.id}")
            else:
                diff = definition_diff(defn, dict(existing.raw))
                if not diff.is_compatible:
                    raise dg.Failure(
                        description=f"AMC dataset {defn.id} differs from the definition:\n"
                        + diff.format(),
                        metadata={"differences": len(diff.differences)},
                        allow_retries=False,
                    )
                for column in diff.addable_columns:
                    client.add_column(defn.id, add_column_body(column)["column"])
                    added += 1
                    context.log.info(f"added column {column.name} to AMC dataset {defn.id}")
            dataset = client.get_dataset(defn.id)
        except AmcApiError as exc:
            raise amc_failure("AMC dataset", exc) from None
    return dg.MaterializeResult(
        metadata={
            "dataset_id": defn.id,
            "created": created,
            "columns_added": added,
            "column_count": len(dataset.columns),
            "fact_dataset": int(defn.is_fact),
        }
    )
