"""Stage 1, the model: float models, quantization, the integer-only kernels, ONNX in and out,
and the built-in models and data sets."""

from vcp._exports import lazy_exports

_PUBLIC = {
    "demo_float_model": "vcp.model.builtin", "demo_model": "vcp.model.builtin",
    "Split": "vcp.model.datasets", "load_digits_split": "vcp.model.datasets",
    "Dense": "vcp.model.float_model", "Model": "vcp.model.float_model", "ReLU": "vcp.model.float_model",
    "ImportedModel": "vcp.model.onnx_import", "import_onnx": "vcp.model.onnx_import",
    "export_onnx": "vcp.model.onnx_io",
    "inspect_onnx": "vcp.model.onnx_io",
    "load_onnx_model": "vcp.model.onnx_io",
    "QuantizedModel": "vcp.model.quantize", "quantize": "vcp.model.quantize",
    "random_inputs": "vcp.model.synthetic", "random_model": "vcp.model.synthetic",
}
__all__ = ["Dense", "ImportedModel", "Model", "QuantizedModel", "ReLU", "Split", "demo_float_model",
    "demo_model", "export_onnx", "import_onnx", "inspect_onnx", "load_digits_split", "load_onnx_model",
    "quantize", "random_inputs", "random_model"]
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
