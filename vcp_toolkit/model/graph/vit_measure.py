"""The fixed-point figures of docs/models.md's "Tiny ViT" section:

    .venv/bin/python -m vcp_toolkit.model.graph.vit_measure

Both ONNX files are imported to integer models (calibrated on the first 256 train images); on the
1,000 held-out MNIST images it prints each integer model's top-1 accuracy, onnxruntime's float top-1
of the same file, their top-1 agreement, whether the two integer models give identical bits, the
largest error of each node kind against the float64 reading of the file (float units, on the first
200 held-out images, after the int8 error has accumulated through every node before it), and the
median time of one image and per image of the batch of 1,000: the integer forward (numpy, BLAS held
to one thread) and onnxruntime (CPUExecutionProvider, one thread), and where the integer batch-1 time goes by
node kind. Timings depend on the machine
and its load; tests/model/test_vit_integer.py checks the deterministic figures, not these.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vcp_toolkit.model.datasets import load_mnist_split
from vcp_toolkit.model.graph.vit_import import IntegerViT, builtin_vit_path, calibration_images, import_vit

REPO = Path(__file__).resolve().parents[3]
DYNAMO = REPO / "tests" / "fixtures" / "onnx" / "vit" / "vit_dynamo.onnx"
WARMUP, REPEATS, BATCH_REPEATS = 20, 300, 5
ERROR_IMAGES = 200


def ort_session(path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def median_seconds(call: Callable[[], object], repeats: int, warmup: int) -> float:
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def held_out_figures(vit: IntegerViT, path: Path, x: np.ndarray, y: np.ndarray) -> dict:
    """Fixed-point and onnxruntime float top-1 on labelled images and their top-1 agreement: the figures
    ``vcp inspect MODEL --eval N`` reports, by the same function (model.graph.report.agreement)."""
    from vcp_toolkit.model.graph.report import agreement
    from vcp_toolkit.model.graph.resolve import GraphModel

    return agreement(GraphModel(vit.graph, Path(path), None, "", vit.float_graph), x, y, "held-out MNIST")


def kind_errors(vit: IntegerViT, x: np.ndarray) -> dict[str, float]:
    """Largest |int8 code * scale - float64 value| over every node of each kind."""
    floats = vit.float_graph.run(x)
    _, trace = vit.run(vit.quantize_input(x))
    errors: dict[str, float] = {}
    for node in vit.graph.nodes:
        if node.name in floats:
            err = float(np.max(np.abs(trace[node.name] * node.scale - floats[node.name])))
            errors[node.op.kind] = max(errors.get(node.op.kind, 0.0), err)
    return errors


def timings(vit: IntegerViT, path: Path, x: np.ndarray) -> dict[str, float]:
    """Milliseconds: median batch-1 time and per-image time of the whole batch, integer and onnxruntime."""
    from threadpoolctl import threadpool_limits

    sess, xq, x32 = ort_session(path), vit.quantize_input(x), x.astype(np.float32)
    with threadpool_limits(limits=1):
        out = {"int_1": median_seconds(lambda: vit.run(xq[:1]), REPEATS, WARMUP),
               "int_batch": median_seconds(lambda: vit.run(xq), BATCH_REPEATS, 1) / len(x)}
    out["ort_1"] = median_seconds(lambda: sess.run(["logits"], {"input": x32[:1]}), REPEATS, WARMUP)
    out["ort_batch"] = median_seconds(lambda: sess.run(["logits"], {"input": x32}), BATCH_REPEATS, 1) / len(x)
    return {k: 1000 * v for k, v in out.items()}


def kind_times(vit: IntegerViT, x_int8: np.ndarray, repeats: int = REPEATS) -> dict[str, float]:
    """Milliseconds per forward spent in each node kind (every node timed on its traced inputs)."""
    from threadpoolctl import threadpool_limits

    _, trace = vit.run(x_int8)
    totals: dict[str, float] = {}
    with threadpool_limits(limits=1):
        for _ in range(repeats):
            for node in vit.graph.nodes:
                args = [trace[i] for i in node.inputs]
                started = time.perf_counter()
                node.op(*args)
                totals[node.op.kind] = totals.get(node.op.kind, 0.0) + time.perf_counter() - started
    return {k: 1000 * v / repeats for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}


def main() -> None:
    split = load_mnist_split()
    x, y = np.asarray(split.x_test, dtype=np.float64), split.y_test
    calib = calibration_images()
    logits = {}
    for label, path in (("vit.onnx", builtin_vit_path()), ("vit_dynamo.onnx", DYNAMO)):
        vit = import_vit(path, calib)
        logits[label], _ = vit.run(vit.quantize_input(x))
        held = held_out_figures(vit, path, x, y)
        print(f"{label}: fixed-point top-1 {held['accuracy']['fixed_point']:.2%}, onnxruntime float top-1 "
              f"{held['accuracy']['onnxruntime']:.2%}, top-1 agreement {held['top1']:.2%}", flush=True)
    a, b = logits.values()
    print(f"the two integer models' logits identical on all {len(x)} images: {bool(np.array_equal(a, b))}")
    vit = import_vit(builtin_vit_path(), calib)
    errors = kind_errors(vit, x[:ERROR_IMAGES])
    print("max |error| by node kind (float units): " + ", ".join(f"{k} {v:.3f}" for k, v in errors.items()))
    t = timings(vit, builtin_vit_path(), x)
    print(f"{len(vit.graph.nodes)} integer nodes; ", end="")
    print(f"batch 1, median of {REPEATS}: integer {t['int_1']:.3f} ms, onnxruntime {t['ort_1']:.3f} ms "
          f"({t['int_1'] / t['ort_1']:.1f}x); batch {len(x)}, per image: integer {t['int_batch']:.3f} ms, "
          f"onnxruntime {t['ort_batch']:.4f} ms ({t['int_batch'] / t['ort_batch']:.1f}x)")
    per_kind = kind_times(vit, vit.quantize_input(x[:1]))
    print("batch 1, ms per forward by node kind: " + ", ".join(f"{k} {v:.3f}" for k, v in per_kind.items()))


if __name__ == "__main__":
    main()
