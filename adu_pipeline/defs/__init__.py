"""The Dagster definitions, one module per domain, loaded with `dg.load_from_defs_folder`:

- resources.py: S3 and AMC resources for ADU_ENV (local stack or production).
- datasets.py: per data/datasets/*.yaml, its assets (landing, hashed, s3_object, and per
  instance amc_dataset and amc_upload), checks, export job and (FACT) daily schedule.
- landing.py: the landing file sensor.
- uploads.py: the upload status sensor.
- audiences.py: the segment audiences (dynamic partitions), their job and sensors.

Only definitions live here; what they are built from is in adu_pipeline/lib.
"""
