"""Running the product offline: the local stack (moto S3 + the AMC emulator), synthetic sample
data, the sensor driver, `adu demo` and `adu dev`. stack.py and sample_data.py import no Dagster."""
