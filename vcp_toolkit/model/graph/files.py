"""The quantized operator graph's file: ``save_graph`` / ``load_graph`` (docs/models.md, "Graph files").

An uncompressed .npz (numpy.savez's layout, member dates fixed) holding a JSON manifest as a 0-d text array ``manifest`` and the
integer arrays of node i as ``node{i}.<array>``: weight, bias, multiplier and shift (conv, dense,
token_dense), gamma, beta, multiplier and shift (layernorm), table (gelu), token (prepend), value
(const); KINDS lists each kind's fields and arrays. The manifest::

    {"format": "vcp.operator-graph", "version": 1, "name": str, "input_shape": [int, ...],
     "input_scale": float, "nodes": [{"name", "kind", "inputs", "scale", <the kind's fields>}, ...],
     "metadata": {...}}

Reading trusts nothing: the bytes are read by model.arrays (no pickle, no FIFO hang, no header
claiming more memory than the file holds), the JSON strictly (no duplicate keys, NaN or huge
integers), every key and type is checked, every array must have the exact dtype and shape its node
implies, and the shapes must chain (model.graph.vit_shapes.graph_shapes) before an IntGraph is returned. Anything
else raises InvalidModel naming the file and what is wrong (FileUnreadable when it cannot be opened).
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
import zipfile
from pathlib import Path

import numpy as np

from vcp_toolkit.attest.files import printable, write_atomic
from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.arrays import load_json, load_npz, read_file
from vcp_toolkit.model.fixedpoint import INT32_MAX, MULTIPLIER_MAX, SHIFT_MAX, SHIFT_MIN
from vcp_toolkit.model.graph.add import Add
from vcp_toolkit.model.graph.conv import Conv2D
from vcp_toolkit.model.graph.dense import Dense
from vcp_toolkit.model.graph.gelu import Gelu
from vcp_toolkit.model.graph.graph import IntGraph, IntNode
from vcp_toolkit.model.graph.layernorm import LayerNorm
from vcp_toolkit.model.graph.layout import Clamp, Flatten
from vcp_toolkit.model.graph.matmul import MatMul
from vcp_toolkit.model.graph.pool import AvgPool, GlobalAvgPool, MaxPool
from vcp_toolkit.model.graph.shapes import MAX_TENSOR
from vcp_toolkit.model.graph.softmax import Softmax
from vcp_toolkit.model.graph.vit_layout import BatchConst, PrependToken, Reshape, TakeToken, TokenDense, Transpose
from vcp_toolkit.model.graph.vit_shapes import graph_shapes

FORMAT = "vcp.operator-graph"
VERSION = 1
GRAPH_FIX = "pass a graph file written by `vcp quantize` (vcp_toolkit.model.graph.save_graph)"
MAX_GRAPH_BYTES = 256 * 2**20
MAX_NODES = 1024
MAX_NAME = 200  # characters of a node or graph name
MAX_SPATIAL = 4096  # kernel, stride and padding values; channel groups

# kind -> (operator class, its scalar fields in constructor order, its integer arrays)
ARRAYS = ("weight", "bias", "multiplier", "shift")
KINDS: dict[str, tuple[type, tuple[str, ...], tuple[str, ...]]] = {
    "conv": (Conv2D, ("stride", "pads", "groups", "lo", "hi"), ARRAYS),
    "dense": (Dense, ("lo", "hi"), ARRAYS),
    "maxpool": (MaxPool, ("kernel", "stride", "pads"), ()),
    "avgpool": (AvgPool, ("kernel", "stride", "pads", "count_include_pad"), ()),
    "gap": (GlobalAvgPool, (), ()),
    "add": (Add, ("multiplier_a", "multiplier_b", "shift", "lo", "hi"), ()),
    "flatten": (Flatten, (), ()),
    "clamp": (Clamp, ("lo", "hi"), ()),
    # the transformer's (vit_layout, layernorm, matmul, softmax, gelu); token_dense holds a Dense
    "token_dense": (TokenDense, ("lo", "hi"), ARRAYS),
    "layernorm": (LayerNorm, ("epsilon", "lo", "hi"), ("gamma", "beta", "multiplier", "shift")),
    "matmul": (MatMul, ("multiplier", "shift", "lo", "hi"), ()),
    "softmax": (Softmax, ("multiplier", "shift"), ()),
    "gelu": (Gelu, (), ("table",)),
    "reshape": (Reshape, ("shape",), ()),
    "transpose": (Transpose, ("perm",), ()),
    "take": (TakeToken, ("index",), ()),
    "prepend": (PrependToken, (), ("token",)),
    "const": (BatchConst, (), ("value",)),
}
INT8_ARRAYS = frozenset({"weight", "gamma", "table", "token", "value"})  # the other arrays are int64
_PAIRS = {"stride": 2, "kernel": 2, "pads": 4}  # list fields and their lengths; the rest are ints or bools
MAX_RANK = 8  # dimensions per sample of a reshape's shape or a transpose's perm
_LISTS = {"shape": (1, MAX_RANK, 1, MAX_TENSOR), "perm": (2, MAX_RANK + 1, 0, MAX_RANK)}  # (lengths, values)
_NODE_KEYS = ("name", "kind", "inputs", "scale")
_TOP_KEYS = ("format", "version", "name", "input_shape", "input_scale", "nodes", "metadata")


def _held(op):
    """Where ``op``'s fields and arrays live: a TokenDense's are its Dense's."""
    return op.dense if op.kind == "token_dense" else op


def _node_entry(node: IntNode) -> dict:
    _cls, fields, _arrays = KINDS[node.op.kind]
    entry = {"name": node.name, "kind": node.op.kind, "inputs": list(node.inputs), "scale": float(node.scale)}
    for key in fields:
        value = getattr(_held(node.op), key)
        entry[key] = [int(v) for v in value] if isinstance(value, tuple) else (bool(value) if isinstance(value, bool)
                                                                             else int(value))
    return entry


def graph_bytes(graph: IntGraph) -> bytes:
    """The file ``save_graph`` writes, as bytes (deterministic: same graph, same bytes)."""
    manifest = {"format": FORMAT, "version": VERSION, "name": graph.name, "input_shape": list(graph.input_shape),
                "input_scale": float(graph.input_scale), "nodes": [_node_entry(n) for n in graph.nodes],
                "metadata": graph.metadata}
    arrays = {"manifest": np.array(json.dumps(manifest, sort_keys=True, allow_nan=False))}
    for i, node in enumerate(graph.nodes):
        for key in KINDS[node.op.kind][2]:
            arrays[f"node{i}.{key}"] = np.ascontiguousarray(getattr(_held(node.op), key))
    return _npz(arrays)


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    """numpy.savez's layout with a fixed member date, so equal graphs give equal bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, array, allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), member.getvalue())
    return buffer.getvalue()


def save_graph(graph: IntGraph, path: Path) -> Path:
    """Write ``graph`` to ``path`` atomically (the file is whole or absent). An existing ``path``
    must be a regular file: write-then-rename would otherwise replace a device, FIFO or socket."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise InvalidInput(f"cannot write graph file {printable(path)}: {exc.strerror}") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise InvalidInput(f"graph file {printable(path)} exists and is not a regular file (a folder, device, FIFO "
                           "or socket): name a new or regular file")
    write_atomic(path, graph_bytes(graph))
    return path


def load_graph(path: Path) -> IntGraph:
    """The IntGraph in the graph file ``path``; InvalidModel naming the file and the fault otherwise."""
    raw = read_file(Path(path), "graph file", MAX_GRAPH_BYTES, InvalidModel, GRAPH_FIX)
    return graph_from_bytes(raw, f"graph file {printable(path)}")


def graph_from_bytes(raw: bytes, what: str) -> IntGraph:
    arrays = load_npz(raw, what, MAX_GRAPH_BYTES, InvalidModel, GRAPH_FIX, kinds="iuU")
    try:
        manifest = _manifest(arrays, what)
        nodes = tuple(_node(entry, i, arrays) for i, entry in enumerate(manifest["nodes"]))
        _no_extra_arrays(arrays, nodes)
        graph = IntGraph(tuple(manifest["input_shape"]), float(manifest["input_scale"]), nodes,
                         name=manifest["name"], metadata=manifest["metadata"])
        graph_shapes(graph)
        return graph
    except InvalidModel as exc:
        raise InvalidModel(f"{what}: {exc}; {GRAPH_FIX}") from None


def _manifest(arrays: dict, what: str) -> dict:
    text = arrays.get("manifest")
    if text is None or text.dtype.kind != "U" or text.ndim != 0:
        raise InvalidModel("no 'manifest' text array: not a vcp operator-graph file")
    manifest = load_json(str(text).encode(), "its manifest", InvalidModel)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise InvalidModel(f"the manifest's format is {printable(found)[:40]}, not {FORMAT!r}")
    if manifest.get("version") != VERSION or isinstance(manifest.get("version"), bool):
        raise InvalidModel(f"{FORMAT} version {printable(manifest.get('version'))[:20]} is not supported "
                           f"(this vcp reads version {VERSION})")
    _keys(manifest, _TOP_KEYS, "the manifest")
    _name(manifest["name"], "the graph name")
    shape = manifest["input_shape"]
    if not (isinstance(shape, list) and 1 <= len(shape) <= 3 and all(_int(d, 1, 2**20) for d in shape)):
        raise InvalidModel(f"input_shape must be 1 to 3 ints >= 1, got {printable(shape)[:60]}")
    _scale(manifest["input_scale"], "input_scale")
    if not isinstance(manifest["metadata"], dict):
        raise InvalidModel("metadata must be a JSON object")
    nodes = manifest["nodes"]
    if not isinstance(nodes, list) or not 1 <= len(nodes) <= MAX_NODES:
        raise InvalidModel(f"nodes must be a list of 1 to {MAX_NODES} nodes")
    return manifest


def _keys(entry: dict, expected: tuple, where: str) -> None:
    missing = [k for k in expected if k not in entry]
    extra = sorted(k for k in entry if k not in expected)
    if missing or extra:
        fault = f"lacks {missing[0]!r}" if missing else f"has an unknown key {printable(extra[0])[:40]}"
        raise InvalidModel(f"{where} {fault}")


def _int(value, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _name(value, where: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_NAME or not value.isprintable():
        raise InvalidModel(f"{where} must be 1 to {MAX_NAME} printable characters")
    return value


def _scale(value, where: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not (math.isfinite(value) and value > 0):
        raise InvalidModel(f"{where} must be a positive finite number, got {printable(value)[:40]}")
    return float(value)


# scalar int fields and their ranges; the add multipliers take the default 1..2**31-1
_BOUNDS = {"groups": (1, MAX_SPATIAL), "lo": (-128, 127), "hi": (-128, 127), "shift": (SHIFT_MIN, SHIFT_MAX),
           "multiplier": (1, MULTIPLIER_MAX), "epsilon": (1, INT32_MAX), "index": (0, MAX_TENSOR - 1)}


def _field(key: str, value, where: str):
    if key in _PAIRS:
        if not (isinstance(value, list) and len(value) == _PAIRS[key] and all(_int(v, 0, MAX_SPATIAL) for v in value)):
            raise InvalidModel(f"{where}: {key} must be {_PAIRS[key]} ints in 0..{MAX_SPATIAL}")
        return tuple(value)
    if key in _LISTS:
        shortest, longest, lo, hi = _LISTS[key]
        if not (isinstance(value, list) and shortest <= len(value) <= longest and all(_int(v, lo, hi) for v in value)):
            raise InvalidModel(f"{where}: {key} must be {shortest} to {longest} ints in {lo}..{hi}, "
                               f"got {printable(value)[:60]}")
        return tuple(value)
    if key == "count_include_pad":
        if not isinstance(value, bool):
            raise InvalidModel(f"{where}: count_include_pad must be true or false")
        return value
    lo, hi = _BOUNDS.get(key, (1, MULTIPLIER_MAX))
    if not _int(value, lo, hi):
        raise InvalidModel(f"{where}: {key} must be an int in {lo}..{hi}, got {printable(value)[:40]}")
    return value


def _node(entry, i: int, arrays: dict) -> IntNode:
    where = f"node {i}"
    if not isinstance(entry, dict):
        raise InvalidModel(f"{where} is not a JSON object")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise InvalidModel(f"{where} has unknown kind {printable(kind)[:40]} (known: {', '.join(KINDS)})")
    cls, fields, array_keys = KINDS[kind]
    _keys(entry, _NODE_KEYS + fields, where)
    where = f"node {i} ({_name(entry['name'], f'{where} name')!r}, {kind})"
    inputs = entry["inputs"]
    if not isinstance(inputs, list) or not all(isinstance(n, str) and len(n) <= MAX_NAME for n in inputs):
        raise InvalidModel(f"{where}: inputs must be a list of node names")
    params = {key: _field(key, entry[key], where) for key in fields}
    params.update({key: _array(arrays, f"node{i}.{key}", key) for key in array_keys})
    try:
        op = TokenDense(Dense(**params)) if cls is TokenDense else cls(**params)
    except (InvalidModel, TypeError, ValueError) as exc:
        raise InvalidModel(f"{where}: {exc}") from None
    return IntNode(entry["name"], op, tuple(inputs), _scale(entry["scale"], f"{where} scale"))


def _array(arrays: dict, name: str, key: str) -> np.ndarray:
    arr = arrays.get(name)
    if arr is None:
        raise InvalidModel(f"array {name} is missing")
    dtype = np.int8 if key in INT8_ARRAYS else np.int64
    if arr.dtype != dtype:  # the operators check shapes and ranges; a float or widened array stops here
        raise InvalidModel(f"array {name} is {arr.dtype}, must be {np.dtype(dtype).name}")
    return np.array(arr)  # a private, writable copy: the operator freezes it


def _no_extra_arrays(arrays: dict, nodes: tuple[IntNode, ...]) -> None:
    expected = {"manifest"} | {f"node{i}.{k}" for i, n in enumerate(nodes) for k in KINDS[n.op.kind][2]}
    extra = sorted(set(arrays) - expected)
    if extra:
        raise InvalidModel(f"holds an array no node uses ({printable(extra[0])[:40]})")
