"""Staging between the landing file and AMC, without Dagster: landing files, value-free quality
measurements of the hashed output, upload parts and their S3 objects."""
