"""What EZKL will cost for a circuit of a given size, predicted from measured points
(`vcp_toolkit.bench.zk_calibration`) before any key exists.

- Setup, proving time, the prover's memory and the proving key work on polynomials over a domain of
  2**logrows rows (FFTs, multi-scalar multiplications): each is a power law of the domain,
  ``a * (2**logrows) ** b``, fitted by least squares on logarithms.
- The verifier hashes and multiplies every public value, so its gas is linear in the instances,
  plus a step per logrows (the circuit's columns and queries grow with it):
  ``c + d * instances + e * logrows``.
- The proof and the verifier's code carry a commitment and an opening per column: linear in logrows.
- The registry's binding checks (the input's bytes, the scales) are linear in the instances.

Circuits of one kind (dense layers, or operator graphs) share a column layout, so each kind is
fitted on its own points when they span two sizes or more; a dense circuit's rows per unit of work
differ from a CNN's, and one law over both is off by up to a third.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from vcp_toolkit.bench.zk_calibration import Calibration, ZkPoint, load_calibration

POWER_LAW_FIGURES = ("setup_s", "prove_s", "peak_rss_mb", "pk_bytes")
LINEAR_FIGURES = {"verifier_gas": ("instances", "logrows"), "proof_bytes": ("logrows",),
                  "verifier_bytes": ("logrows",)}


@dataclass(frozen=True)
class ZkPrediction:
    """Predicted costs of proving a circuit of ``logrows`` (EZKL's calibrated size) on the
    calibration's machine."""

    logrows: int
    rows: int
    instances: int
    setup_s: float
    prove_s: float
    peak_rss_mb: float
    pk_bytes: float
    proof_bytes: float
    verifier_bytes: float
    verifier_gas: float
    registry_gas: float


@dataclass(frozen=True)
class PowerLaw:
    """``a * n ** b``."""

    a: float
    b: float

    def __call__(self, n: float) -> float:
        return self.a * n ** self.b


def fit_power_law(n: list[float], y: list[float]) -> PowerLaw:
    """Least squares on logarithms (a constant when every point has the same n)."""
    log_n, log_y = np.log(np.asarray(n, dtype=float)), np.log(np.asarray(y, dtype=float))
    if np.ptp(log_n) == 0:
        return PowerLaw(float(np.exp(log_y.mean())), 0.0)
    b, log_a = np.polyfit(log_n, log_y, 1)
    return PowerLaw(float(np.exp(log_a)), float(b))


@dataclass(frozen=True)
class LinearLaw:
    """``c0 + c1 * x1 + ...`` over the named features of a point (instances, logrows)."""

    features: tuple[str, ...]
    coefficients: tuple[float, ...]

    def __call__(self, **values: float) -> float:
        return self.coefficients[0] + sum(c * values[f] for f, c in zip(self.features, self.coefficients[1:]))


def fit_linear(features: tuple[str, ...], points: tuple[ZkPoint, ...], figure: str) -> LinearLaw:
    """Least squares (minimum norm when the points do not separate every feature)."""
    design = np.asarray([[1.0, *(float(getattr(p, f)) for f in features)] for p in points])
    target = np.asarray([float(getattr(p, figure)) for p in points])
    coefficients, *_ = np.linalg.lstsq(design, target, rcond=None)
    return LinearLaw(features, tuple(float(c) for c in coefficients))


@dataclass(frozen=True)
class ZkModel:
    """The fitted laws: power laws of the domain, lines in instances and logrows, and the registry's
    binding overhead as a line in the instances."""

    powers: dict[str, PowerLaw]
    lines: dict[str, LinearLaw]
    binding: LinearLaw

    @classmethod
    def fit(cls, points: tuple[ZkPoint, ...]) -> "ZkModel":
        domain = [2.0 ** p.logrows for p in points]
        powers = {name: fit_power_law(domain, [getattr(p, name) for p in points]) for name in POWER_LAW_FIGURES}
        lines = {name: fit_linear(features, points, name) for name, features in LINEAR_FIGURES.items()}
        overhead = tuple(dataclasses.replace(p, registry_gas=p.registry_gas - p.verifier_gas) for p in points)
        return cls(powers, lines, fit_linear(("instances",), overhead, "registry_gas"))

    def predict(self, logrows: int, rows: int, instances: int) -> ZkPrediction:
        figures = {name: law(2.0 ** logrows) for name, law in self.powers.items()}
        figures |= {name: law(instances=instances, logrows=logrows) for name, law in self.lines.items()}
        binding = self.binding(instances=instances, logrows=logrows)
        return ZkPrediction(logrows=logrows, rows=rows, instances=instances,
                            registry_gas=figures["verifier_gas"] + binding, **figures)


def points_for(points: tuple[ZkPoint, ...], kind: str | None) -> tuple[ZkPoint, ...]:
    """The points of circuits of ``kind`` when they span at least two sizes (their column layout
    is the model's own), else every point."""
    same = tuple(p for p in points if p.kind == kind)
    return same if len({p.logrows for p in same}) >= 2 else points


def calibrated_model(kind: str | None = None, calibration: Calibration | None = None) -> ZkModel:
    """The model fitted on the committed calibration (or on ``calibration``), on the points of
    circuits of ``kind`` ("dense" or "graph") when there are enough."""
    return ZkModel.fit(points_for((calibration or load_calibration()).points, kind))


def relative_error(predicted: float, measured: float) -> float:
    """(predicted - measured) / measured."""
    return (predicted - measured) / measured
