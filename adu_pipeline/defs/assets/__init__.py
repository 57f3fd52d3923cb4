"""One module per asset, from the landing file to the live DSP audience."""
