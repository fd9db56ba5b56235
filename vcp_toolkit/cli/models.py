"""Models: ``vcp inspect`` an ONNX import (operator graphs, CNNs and vision transformers: cli.graphs),
``vcp export`` the quantized model as ONNX."""

from __future__ import annotations

import argparse
from pathlib import Path

from vcp_toolkit.cli.context import Context
from vcp_toolkit.cli.render import EXIT_OK, number, print_json, table, us
from vcp_toolkit.errors import InvalidInput


def _inspect_rows(result: dict) -> list[tuple[str, str]]:
    agree, how = result["agreement"], result["quantization"]
    rows = [("file", f"{result['model']} ({result['identity']['producer'] or 'unknown producer'})"),
            ("widths / params", f"{result['widths']} / {number(result['params'])}"),
            ("head (applied after dequantization)", result["head"]),
            ("calibration", how["calibration"])]
    for layer in result["layers"]:
        rows.append((f"layer {layer['layer']}: {layer['in']} -> {layer['out']} {layer['activation']}",
                     f"scale in {number(layer['input_scale'])}, out {number(layer['output_scale'])}, "
                     f"shift {layer['shift_min']}..{layer['shift_max']}"))
    rows += [("top-1 agreement with onnxruntime", f"{agree['top1']:.2%} on {agree['samples']} {agree['inputs']} inputs"),
             ("largest |difference| of dequantized outputs",
              "n/a (ArgMax head)" if agree["max_abs_diff"] is None else number(agree["max_abs_diff"])),
             ("model root", result["model_root"]), ("import + quantize", us(result["import_and_quantize_s"]))]
    return rows


def cmd_inspect(args: argparse.Namespace) -> int:
    from vcp_toolkit.cli.graphs import inspect_graph_command
    from vcp_toolkit.model.graph.report import is_count
    from vcp_toolkit.model.graph.resolve import is_graph_spec
    from vcp_toolkit.model.onnx_io import inspect_onnx

    if is_graph_spec(args.model):
        return inspect_graph_command(args)
    if args.eval is not None and args.validation is not None:
        raise InvalidInput("pass held-out inputs once: --eval or --validation")
    if is_count(args.eval):
        raise InvalidInput(f"--eval {args.eval} (held-out MNIST images) applies to 1x28x28 CNNs and vision "
                           "transformers; for a dense model pass a .npy or .npz file of inputs")
    held_out = Path(args.eval) if args.eval is not None else args.validation
    result = inspect_onnx(Path(args.model), args.calibration, held_out, args.output)
    if args.json:
        print_json(result)
    else:
        table("vcp inspect", _inspect_rows(result))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from vcp_toolkit.model.onnx_io import export_onnx

    model = Context(args).model
    path = export_onnx(model, args.out)
    print(f"wrote {path}: {model.name} {model.widths} as float ONNX (Gemm + Relu)")
    return EXIT_OK
