"""The built-in CNNs measured off-chain: exact fixed-point inference against onnxruntime's float
inference of the same ONNX file (batch 256, one core, the ratio from one run), and the zk baseline,
EZKL proving the same quantized CNN (setup, prove time, peak memory, proof size, verifier gas).

Both are benchmarks: nothing here is asserted on time. A CNN whose EZKL circuit would not fit in this
machine's memory is recorded as such, with what it would need, and narrower cuts of it are proven
instead, down to the largest that fits.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable

import numpy as np

from vcp_toolkit.bench.timing import measure
from vcp_toolkit.model.builtin.graphs import builtin_graph, onnx_path
from vcp_toolkit.model.datasets import load_mnist_split

BATCH = 256
# EZKL's memory on the LeNet circuit (2**20 rows), runs of 2026-11-24 on this 23 GB machine: setup
# peaked at 12.1 GB (10.2 GB proving key); the proof was killed by the kernel at 24.3 GB. Memory
# grows with the rows, so a circuit is only tried with this much available per 2**20 rows.
SETUP_BYTES_PER_2_20_ROWS = 13 * 2**30
PROVE_BYTES_PER_2_20_ROWS = 25 * 2**30
FRACTIONS = (1.0, 0.75, 0.5, 0.25)  # the whole CNN first, then narrower cuts of it (bench/narrowed.py)


def _one_core_session(name: str):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(str(onnx_path(name)), options, providers=["CPUExecutionProvider"])


def _prover(graph):
    from vcp_toolkit.attest.eip712 import Domain
    from vcp_toolkit.attest.keys import SigningKey
    from vcp_toolkit.prover import GraphProver

    return GraphProver(graph, SigningKey.generate(), Domain(chain_id=1, verifying_contract="0x" + "11" * 20))


def inference_row(name: str, repeats: int) -> dict[str, Any]:
    """Medians over ``repeats`` of one batch of held-out images, both engines limited to one core
    (onnxruntime by its session options, numpy's BLAS by threadpoolctl), in one run."""
    from threadpoolctl import threadpool_limits

    graph = builtin_graph(name)
    images = load_mnist_split().x_test[:BATCH].astype(np.float32)
    codes = graph.quantize_input(images)
    session = _one_core_session(name)
    feed = session.get_inputs()[0].name
    with threadpool_limits(limits=1):
        batch_out = graph.run(codes).output
        fixed = measure(lambda: graph.run(codes), repeats, 1)
        onnx_t = measure(lambda: session.run(None, {feed: images}), repeats, 1)
        one_fixed = measure(lambda: graph.run(codes[:1]), repeats, 1)
        one_onnx = measure(lambda: session.run(None, {feed: images[:1]}), repeats, 1)
        prove = measure(lambda: _prover(graph).prove_batch(codes), max(1, repeats // 4), 0)
    one_by_one = np.concatenate([graph.run(codes[i:i + 1]).output for i in range(0, BATCH, 32)])
    return {"model": name, "batch": BATCH, "repeats": repeats, "fixed_point_s": fixed.median_s,
            "onnxruntime_s": onnx_t.median_s, "ratio": fixed.median_s / onnx_t.median_s,
            "fixed_point_images_per_s": BATCH / fixed.median_s,
            "single_fixed_point_s": one_fixed.median_s, "single_onnxruntime_s": one_onnx.median_s,
            "single_ratio": one_fixed.median_s / one_onnx.median_s,
            # proving: inference, every tensor's tiles and roots, the records root and one signature
            "prove_per_image_s": prove.median_s / BATCH, "prove_ratio": prove.median_s / onnx_t.median_s,
            # the batch gives the same integers as the images alone (a spot check of every 32nd)
            "batch_exact": bool(np.array_equal(batch_out[::32], one_by_one))}


def available_memory() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def zk_settings(graph) -> dict[str, Any]:
    """EZKL's calibrated size of the graph's circuit (seconds, no keys): logrows and rows decide memory."""
    from vcp_toolkit.zk import circuit_size

    size = circuit_size(graph, graph.quantize_input(load_mnist_split().x_test[:1]).reshape(1, -1))
    return {"logrows": size.logrows, "rows": size.rows}


def _memory_needed(logrows: int) -> int:
    per_2_20 = max(SETUP_BYTES_PER_2_20_ROWS, PROVE_BYTES_PER_2_20_ROWS)
    return per_2_20 << (logrows - 20) if logrows >= 20 else per_2_20 >> (20 - logrows)


def _attempt(graph, fraction: float, chain_bench) -> dict[str, Any]:
    """One circuit: its settings, then setup and proof if the memory is there (a proof killed for
    memory anyway is recorded, not raised)."""
    from vcp_toolkit.errors import ZkError

    sizes = zk_settings(graph)
    needed, available = _memory_needed(sizes["logrows"]), available_memory()
    row = {"graph": graph.name, "fraction": fraction, "params": graph.param_count, **sizes,
           "memory_needed_bytes": needed, "memory_available_bytes": available}
    if available is not None and available < needed:
        return {**row, "proven": False, "why": f"needs about {needed / 2**30:.0f} GiB to set up and prove "
                                                f"(2**{sizes['logrows']} rows), {available / 2**30:.1f} GiB available"}
    try:
        return {**row, "proven": True, **chain_bench(graph)}
    except ZkError as exc:
        return {**row, "proven": False, "why": str(exc)}


def zk_attempts(name: str, chain_bench) -> list[dict[str, Any]]:
    """EZKL on the built-in CNN ``name``, then on narrower cuts of it until one is proven: the
    whole model's figures if it fits, else why not and the largest cut that does."""
    from vcp_toolkit.bench.narrowed import narrowed

    graph, attempts = builtin_graph(name), []
    for fraction in FRACTIONS:
        attempts.append(_attempt(graph if fraction == 1.0 else narrowed(graph, fraction), fraction, chain_bench))
        if attempts[-1]["proven"]:
            break
    return attempts


def cnn_rows(names: tuple[str, ...], zk_names: tuple[str, ...], repeats: int, note: Callable[[str], None],
             chain_bench: Callable | None) -> dict[str, Any]:
    """The inference rows of ``names`` and the zk rows of ``zk_names`` (``chain_bench(graph)`` proves
    and verifies on a chain; None when the run has no chain for it). The name "vit" is the built-in
    vision transformer, whose attempts go to ``vit_zk``."""
    out: dict[str, Any] = {"inference": [], "zk": [], "cpu_count": os.cpu_count()}
    for name in names:
        note(f"{name}: fixed point vs onnxruntime, batch {BATCH}, one core")
        out["inference"].append(inference_row(name, repeats))
    for name in zk_names:
        if chain_bench is None:
            break
        started = time.perf_counter()
        if name == "vit":  # the float ONNX file itself: its own rows, apart from the CNNs' (bench/vit_zk.py)
            note("vit: EZKL settings, setup and proof of vit.onnx, each stage under a time and memory limit")
            out["vit_zk"] = {"attempts": _vit_attempts(chain_bench), "wall_s": time.perf_counter() - started}
            continue
        note(f"{name}: EZKL setup and proof (minutes; circuits are cached)")
        out["zk"].append({"model": name, "attempts": zk_attempts(name, chain_bench),
                          "wall_s": time.perf_counter() - started})
    return out


def _vit_attempts(chain_bench: Callable) -> list[dict[str, Any]]:
    """EZKL on vit.onnx, the verifier's gas measured on the chain of ``chain_bench`` (a ChainBench method)."""
    from vcp_toolkit.bench.vit_zk import verifier_gas_on, vit_zk_attempts

    bench = getattr(chain_bench, "__self__", None)
    return vit_zk_attempts(verifier_gas_on(bench.operator) if bench is not None else None)
