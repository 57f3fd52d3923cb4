"""Production-shaped tests: a real PostgreSQL server (fixtures/postgres.py), the instance of
deploy/dagster.yaml, runs through the QueuedRunCoordinator in their own processes."""

from adu_pipeline_tests.fixtures.postgres import postgres_server  # noqa: F401 (a fixture)
