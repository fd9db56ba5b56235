"""The measured calibration behind `vcp estimate`'s zk predictions: EZKL proving circuits of
several sizes on one machine, each point a real run (setup, prove, verify on the embedded chain).

    python -m vcp_toolkit.bench.zk_calibration      # minutes; rewrites zk_calibration.json

A point records the circuit's size as EZKL calibrated it (logrows, rows), what its keys and
proof came to, and the gas of its verifier. `vcp_toolkit.bench.zk_predict` fits these points;
`vcp bench` compares its predictions with the zk rows it measures in the same run.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from vcp_toolkit.errors import InvalidInput

CALIBRATION_FILE = Path(__file__).with_name("zk_calibration.json")
DENSE_WIDTHS = ((64, 16, 10), (64, 64, 64, 10), (784, 128, 10))
LENET_FRACTIONS = (0.25, 0.5)  # narrowed LeNets (vcp_toolkit.bench.narrowed) that fit this machine's memory


@dataclass(frozen=True)
class ZkPoint:
    """One circuit proven with EZKL: its size and what it cost."""

    circuit: str
    kind: str  # "dense" or "graph": circuits of one kind share a column layout
    logrows: int
    rows: int
    instances: int  # public inputs and outputs
    setup_s: float
    prove_s: float
    peak_rss_mb: float  # the prover's peak resident memory
    pk_bytes: int
    proof_bytes: int
    verifier_bytes: int
    verifier_gas: int  # EZKL's verifier alone
    registry_gas: int  # vcp's registry recording the proof (verifier and binding checks)


@dataclass(frozen=True)
class Calibration:
    """The points, and the run they came from."""

    measured_on: str  # the date
    machine: str
    ezkl: str
    points: tuple[ZkPoint, ...]


def load_calibration(path: Path = CALIBRATION_FILE) -> Calibration:
    """The committed calibration (or another file of the same form)."""
    try:
        raw = json.loads(path.read_text())
        points = tuple(ZkPoint(**{f.name: p[f.name] for f in fields(ZkPoint)}) for p in raw["points"])
        return Calibration(raw["measured_on"], raw["machine"], raw["ezkl"], points)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"zk calibration {path}: unreadable ({exc}); regenerate it with "
                           "`python -m vcp_toolkit.bench.zk_calibration`") from None


def _point(name: str, kind: str, figures: dict[str, Any], instances: int) -> ZkPoint:
    return ZkPoint(circuit=name, kind=kind, logrows=figures["logrows"], rows=figures["rows"], instances=instances,
                   setup_s=figures["setup_s"], prove_s=figures["prove_s"]["median"],
                   peak_rss_mb=figures["prove_peak_rss_mb"], pk_bytes=figures["proving_key_bytes"],
                   proof_bytes=figures["proof_bytes"], verifier_bytes=figures["verifier_bytes"],
                   verifier_gas=figures["verifier_only_gas"], registry_gas=figures["gas_per_tx"])


def measure(dense: tuple[tuple[int, ...], ...] = DENSE_WIDTHS,
            lenet_fractions: tuple[float, ...] = LENET_FRACTIONS) -> Calibration:
    """Prove every calibration circuit once with fresh keys (a scratch circuit cache) on the embedded chain."""
    from vcp_toolkit.bench.narrowed import narrowed
    from vcp_toolkit.bench.runner import QUICK, ChainBench, model_for
    from vcp_toolkit.chain.nodes import open_chain
    from vcp_toolkit.model.builtin.graphs import builtin_graph
    from vcp_toolkit.zk.backend import ezkl_version
    from vcp_toolkit.zk.circuit import CircuitModel

    points = []
    with tempfile.TemporaryDirectory() as cache, open_chain("embedded") as chain:
        os.environ["VCP_ZK_CACHE"] = cache  # setup runs here, so its time is measured
        bench = ChainBench(chain, QUICK)
        subjects = [("->".join(map(str, w)), "dense", model_for(w), bench.zk_dense_figures) for w in dense]
        subjects += [(g.name, "graph", g, bench.zk_graph_figures)
                     for g in (narrowed(builtin_graph("lenet"), f) for f in lenet_fractions)]
        for name, kind, model, figures in subjects:
            circuit = CircuitModel.of(model)
            points.append(_point(name, kind, figures(model), circuit.in_width + circuit.out_width))
            print(points[-1], file=sys.stderr, flush=True)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}"
    return Calibration(time.strftime("%Y-%m-%d"), machine, ezkl_version() or "?", tuple(points))


def write_calibration(calibration: Calibration, path: Path = CALIBRATION_FILE) -> None:
    record = {"measured_on": calibration.measured_on, "machine": calibration.machine, "ezkl": calibration.ezkl,
              "command": "python -m vcp_toolkit.bench.zk_calibration",
              "points": [asdict(p) for p in calibration.points]}
    path.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    write_calibration(measure())
