"""Operator-graph models (CNNs and vision transformers) on the command line: ``vcp quantize`` writes a
graph file, ``vcp inspect`` reports a graph, and ``--model`` resolves built-in names and graph files
(a transformer in these two and `vcp prove` / `vcp verify`: model.graph.resolve refuses it elsewhere)."""

from __future__ import annotations

import argparse
from pathlib import Path

from vcp_toolkit.cli.render import EXIT_OK, number, print_json, printable, table, us
from vcp_toolkit.errors import InvalidInput

GRAPH_COMMANDS = frozenset({"inspect", "quantize", "prove", "verify"})  # commands that run operator graphs
MODEL_HELP = ("a built-in CNN (lenet, rescnn), an ONNX file (.onnx), an operator-graph file from `vcp quantize`, "
              "or a dense vcp model (.q.npz); vision transformers (vit) run in inspect, quantize, prove and verify")


def supported(model, spec, command: str | None):
    """``model`` if ``command`` can run it; a one-line error for a CNN handed to a dense-only command."""
    from vcp_toolkit.model.graph.graph import IntGraph

    if isinstance(model, IntGraph) and command not in GRAPH_COMMANDS:
        raise InvalidInput(f"--model {printable(str(spec))}: `vcp {command}` runs dense models only so far, and this "
                           "is an operator-graph (CNN) model; `vcp prove`, `vcp verify`, `vcp inspect` and `vcp quantize` "
                           "take it")
    return model


def add_graph_parsers(sub) -> None:
    p = sub.add_parser("quantize", help="quantize an ONNX CNN or vision transformer into an operator-graph file "
                                        "(int8 weights, scales)")
    p.add_argument("model", help="the .onnx CNN or vision transformer (or a built-in name: lenet / rescnn to write "
                                 "its committed graph, vit to quantize vcp_toolkit/model/builtin/vit.onnx)")
    p.add_argument("--calibration", type=Path, help="sample inputs (.npy, or .npz array 'x') that set the scales "
                                                    "(default, 1x28x28 models only: the first 500 MNIST train images "
                                                    "for a CNN, 256 for a vision transformer)")
    p.add_argument("--out", type=Path, required=True, help="the graph file to write (e.g. model.graph.npz)")
    p.add_argument("--json", action="store_true", help="print what was written as one JSON object instead of text")


def cmd_quantize(args: argparse.Namespace) -> int:
    from vcp_toolkit.model.graph.files import save_graph
    from vcp_toolkit.model.graph.report import param_count
    from vcp_toolkit.model.graph.resolve import is_builtin, load_graph_model

    if not is_builtin(args.model) and Path(args.model).suffix.lower() != ".onnx":
        raise InvalidInput(f"vcp quantize takes an .onnx CNN or vision transformer, or a built-in name (lenet, rescnn, "
                           f"vit), got {printable(args.model)}")
    model = load_graph_model(args.model, args.calibration, transformers=True, from_source=True)
    path = save_graph(model.graph, args.out)
    graph = model.graph
    summary = {"out": str(path), "name": graph.name, "nodes": len(graph.nodes), "params": param_count(graph),
               "input_shape": list(graph.input_shape), "calibration": model.how, "bytes": path.stat().st_size}
    if args.json:
        print_json(summary)
    else:
        print(f"wrote {printable(str(path))}: {graph.name}, {len(graph.nodes)} nodes, {number(summary['params'])} "
              f"params, input {'x'.join(map(str, graph.input_shape))}, calibrated on {model.how}")
    return EXIT_OK


def _node_text(row: dict) -> str:
    parts = [f"{'x'.join(map(str, row['shape']))}", f"scale {number(row['scale'])}"]
    if "kernel" in row:
        parts.append(f"kernel {row['kernel'][0]}x{row['kernel'][1]} stride {row['stride'][0]}")
    elif "stride" in row:
        parts.append(f"stride {row['stride'][0]} pads {row['pads']}" + (f" groups {row['groups']}"
                                                                         if row.get("groups", 1) != 1 else ""))
    if "perm" in row:
        parts.append(f"perm {tuple(row['perm'])}")
    if "index" in row:
        parts.append(f"token {row['index']}")
    if row.get("count_include_pad"):
        parts.append("count_include_pad")
    if "lo" in row and (row["lo"], row["hi"]) != (-128, 127):
        parts.append(f"clamp [{row['lo']}, {row['hi']}]")
    if "shift" in row:
        parts.append(f"shift {row['shift'][0]}..{row['shift'][1]}")
    if row["params"]:
        parts.append(f"{number(row['params'])} params")
    return ", ".join(parts)


def _agreement_rows(agree: dict | None) -> list[tuple[str, str]]:
    if agree is None:
        return [("top-1 agreement with onnxruntime", "n/a: a graph file has no ONNX; inspect the .onnx, or pass "
                                                     "--eval with labels for accuracy")]
    on = f"on {agree['samples']} {agree['inputs']} inputs"
    rows = [("top-1 agreement with onnxruntime", "n/a (no source ONNX)" if agree["top1"] is None
             else f"{agree['top1']:.2%} {on}")]
    if agree["float_import_vs_onnxruntime_top1"] is not None:
        rows.append(("float import vs onnxruntime (top-1)", f"{agree['float_import_vs_onnxruntime_top1']:.2%}"))
    acc = agree["accuracy"]
    if acc is not None:
        text = f"fixed point {acc['fixed_point']:.2%}"
        rows.append(("accuracy " + on, text if acc["onnxruntime"] is None else
                     f"{text}, onnxruntime float {acc['onnxruntime']:.2%}"))
    return rows


def inspect_rows(result: dict) -> list[tuple[str, str]]:
    ops = ", ".join(f"{count} {kind}" for kind, count in result["ops"].items())
    rows = [("model", f"{printable(result['model'])} ({result['name']}, operator graph)"),
            ("input", f"{'x'.join(map(str, result['input_shape']))}, scale {number(result['input_scale'])}"),
            ("nodes / params", f"{len(result['nodes'])} ({ops}) / {number(result['params'])}"),
            ("calibration", result["quantization"]["calibration"])]
    rows += [(f"{row['kind']} {printable(row['name'])[:48]}", _node_text(row)) for row in result["nodes"]]
    return rows + _agreement_rows(result["agreement"]) + [("load + quantize", us(result["import_and_quantize_s"]))]


def inspect_graph_command(args: argparse.Namespace) -> int:
    from vcp_toolkit.model.graph.report import inspect_graph

    if args.validation is not None or args.output is not None:
        raise InvalidInput("--validation and --output apply to dense ONNX models; for a CNN or a vision transformer "
                           "pass held-out inputs with --eval")
    result = inspect_graph(args.model, args.calibration, args.eval)
    if args.json:
        print_json(result)
    else:
        table("vcp inspect", inspect_rows(result))
    return EXIT_OK
