"""The fixed-point operator graph (issue 12): one module per operator (exact numpy kernel and a
plain-Python reference), the integer graph and its trace, its file (save_graph / load_graph), a float reference graph read from ONNX,
and the quantizer between them. The arithmetic is docs/arithmetic.md, "Operator graph"."""

from vcp_toolkit.model.graph.add import Add, add_reference
from vcp_toolkit.model.graph.conv import Conv2D, conv_reference
from vcp_toolkit.model.graph.files import load_graph, save_graph
from vcp_toolkit.model.graph.dense import Dense, dense_reference
from vcp_toolkit.model.graph.float_graph import FloatGraph, FloatNode
from vcp_toolkit.model.graph.graph import INPUT, GraphRun, IntGraph, IntNode
from vcp_toolkit.model.graph.layout import Clamp, Flatten, layout_reference
from vcp_toolkit.model.graph.onnx_reader import read_onnx_graph
from vcp_toolkit.model.graph.pool import AvgPool, GlobalAvgPool, MaxPool, pool_reference
from vcp_toolkit.model.graph.quantizer import quantize_graph

__all__ = ["INPUT", "Add", "AvgPool", "Clamp", "Conv2D", "Dense", "Flatten", "FloatGraph", "FloatNode",
           "GlobalAvgPool", "GraphRun", "IntGraph", "IntNode", "MaxPool", "add_reference", "conv_reference",
           "dense_reference", "layout_reference", "load_graph", "pool_reference", "quantize_graph", "read_onnx_graph",
           "save_graph"]
