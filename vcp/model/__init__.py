"""Stage 1, the model: float models, quantization, the integer-only kernels, ONNX in and out,
and the built-in models and data sets."""
