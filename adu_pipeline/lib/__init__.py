"""Dagster helpers the definitions in adu_pipeline/defs are built from: resources, asset and
sensor factories, check evaluation. Only adu_pipeline/defs declares definitions; the libraries
they call (dataset, hashing, staging, amc) never import Dagster."""
