"""Stage 1, the model: float models, quantization, the integer-only kernels (exact on BLAS), ONNX
in and out, the operator graph for CNNs (model.graph), and the built-in models and data sets (8x8
digits, 28x28 MNIST)."""

from vcp_toolkit._exports import lazy_exports

_PUBLIC = {
    "demo_float_model": "vcp_toolkit.model.builtin", "demo_model": "vcp_toolkit.model.builtin",
    "Split": "vcp_toolkit.model.datasets", "load_digits_split": "vcp_toolkit.model.datasets",
    "load_mnist_split": "vcp_toolkit.model.datasets",
    "exact_conv2d": "vcp_toolkit.model.kernels", "exact_matmul": "vcp_toolkit.model.kernels",
    "Dense": "vcp_toolkit.model.float_model", "Model": "vcp_toolkit.model.float_model", "ReLU": "vcp_toolkit.model.float_model",
    "ImportedModel": "vcp_toolkit.model.onnx_import", "import_onnx": "vcp_toolkit.model.onnx_import",
    "export_onnx": "vcp_toolkit.model.onnx_io",
    "IntGraph": "vcp_toolkit.model.graph", "quantize_graph": "vcp_toolkit.model.graph",
    "read_onnx_graph": "vcp_toolkit.model.graph", "load_graph": "vcp_toolkit.model.graph",
    "save_graph": "vcp_toolkit.model.graph", "builtin_graph": "vcp_toolkit.model.builtin.graphs",
    "inspect_onnx": "vcp_toolkit.model.onnx_io",
    "load_onnx_model": "vcp_toolkit.model.onnx_io",
    "QuantizedModel": "vcp_toolkit.model.quantize", "quantize": "vcp_toolkit.model.quantize",
    "random_inputs": "vcp_toolkit.model.synthetic", "random_model": "vcp_toolkit.model.synthetic",
}
__all__ = ["Dense", "ImportedModel", "IntGraph", "Model", "QuantizedModel", "ReLU", "Split", "builtin_graph",
    "demo_float_model", "demo_model", "exact_conv2d", "exact_matmul", "export_onnx", "import_onnx", "inspect_onnx",
    "load_digits_split", "load_graph", "load_mnist_split", "load_onnx_model", "quantize", "quantize_graph",
    "random_inputs", "random_model", "read_onnx_graph", "save_graph"]
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
