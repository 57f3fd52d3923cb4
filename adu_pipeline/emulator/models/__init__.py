"""The emulator's state and behaviour (moto's `models.py`): the backend, SQLite store, job worker,
S3 ingestion, identity matching, audience SQL and AMC's data rules. No HTTP here."""
