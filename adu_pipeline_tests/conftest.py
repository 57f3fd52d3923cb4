"""Shared fixtures live in adu_pipeline_tests/fixtures/, one module per part."""

pytest_plugins = [
    "adu_pipeline_tests.fixtures.stack",
]
