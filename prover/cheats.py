"""Dishonest prover strategies, for demonstrating and testing that each one is caught and slashed.

Each returns an ``Answer`` as ``prover.ProverService`` uses it. vcp uses them only in the demo,
the tests and ``vcp serve --cheat`` (a loudly marked dishonest prover for demonstrations).
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from typing import Callable

import numpy as np

from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.prover import Answer, Strategy, honest
from vcp_toolkit.model.fixedpoint import run_layers
from vcp_toolkit.model.quantize import QuantizedModel


def _flip(vector: np.ndarray, index: int) -> np.ndarray:
    out = vector.copy()
    out[index] = 127 if out[index] != 127 else -128
    return out


def wrong_output(model: QuantizedModel, x: np.ndarray, salt: bytes) -> Answer:
    """Reports another class: the last layer's output changed (and committed consistently)."""
    answer = honest(model, x, salt)
    trace = list(answer.trace)
    trace[-1] = _flip(trace[-1], (int(np.argmax(trace[-1])) + 1) % len(trace[-1]))
    return dataclasses.replace(answer, trace=trace)


def wrong_hidden_layer(model: QuantizedModel, x: np.ndarray, salt: bytes) -> Answer:
    """Changes one hidden activation, then computes the rest correctly from it."""
    return wrong_layer(model, x, salt, 1)


def wrong_layer(model: QuantizedModel, x: np.ndarray, salt: bytes, layer: int) -> Answer:
    """Changes the first activation of ``layer``'s output (1 = the first layer's), then computes
    the layers after it correctly from it."""
    if not 1 <= layer <= len(model.layers):
        raise InvalidInput(f"layer {layer}: the model has layers 1..{len(model.layers)}")
    answer = honest(model, x, salt)
    trace = list(answer.trace[:layer + 1])
    trace[layer] = _flip(trace[layer], 0)
    trace += [v[0] for v in run_layers(model.layers[layer:], trace[layer][None, :])[1:]]
    return dataclasses.replace(answer, trace=trace)


def other_weights(model: QuantizedModel, x: np.ndarray, salt: bytes) -> Answer:
    """Runs a model with different (unregistered) weights: every first-layer row negated."""
    first = model.layers[0]
    swapped = dataclasses.replace(first, weight=np.clip(-first.weight.astype(np.int16), -128, 127).astype(np.int8))
    cheap = dataclasses.replace(model, layers=(swapped, *model.layers[1:]))
    answer = honest(cheap, x, salt)
    return dataclasses.replace(answer, trace=[v.copy() for v in answer.trace])


def input_swapped(decoy: np.ndarray) -> Strategy:
    """Answers for ``decoy`` instead of the job's input."""

    def strategy(model: QuantizedModel, x: np.ndarray, salt: bytes) -> Answer:
        return honest(model, decoy, secrets.token_bytes(32))

    return strategy


def copied_from(previous: Answer) -> Strategy:
    """Re-submits another job's answer (same trace root and output commitment)."""

    def strategy(model: QuantizedModel, x: np.ndarray, salt: bytes) -> Answer:
        return previous

    return strategy


def swapped_input(model: QuantizedModel, x: np.ndarray, salt: bytes) -> Answer:
    """Answers for the job's input with its first value changed (``input_swapped`` without a decoy)."""
    return honest(model, _flip(x, 0), secrets.token_bytes(32))


def withheld_trace(model: QuantizedModel, x: np.ndarray, salt: bytes) -> Answer:
    """Computes honestly but publishes nothing and ignores reveal requests."""
    return dataclasses.replace(honest(model, x, salt), publish_bundle=False, answer_reveals=False)


CHEATS: dict[str, Callable[..., Strategy] | Strategy] = {
    "wrong_output": wrong_output,
    "wrong_hidden_layer": wrong_hidden_layer,
    "other_weights": other_weights,
    "copied_output": copied_from,
    "input_swapped": input_swapped,
    "withheld_trace": withheld_trace,
}


# What `vcp serve --cheat` offers: the cheats that need nothing but the job. copied_output needs
# another job's answer, so only the demo and the tests play it.
SERVE_CHEATS: dict[str, Strategy] = {
    "wrong_output": wrong_output,
    "wrong_hidden_layer": wrong_hidden_layer,
    "other_weights": other_weights,
    "input_swapped": swapped_input,
    "withheld_trace": withheld_trace,
}


@dataclass(frozen=True)
class CheatPlan:
    """Cheat with ``SERVE_CHEATS[name]`` on every job whose id is a multiple of ``every``, answer
    the others honestly: a ``prover.ProverService`` plan, so each cheated answer is marked."""

    name: str
    every: int = 1

    def __post_init__(self) -> None:
        if self.name not in SERVE_CHEATS:
            raise InvalidInput(f"unknown cheat {self.name!r}: choose one of {', '.join(SERVE_CHEATS)}")
        if self.every < 1:
            raise InvalidInput(f"cheat every {self.every} jobs: must be 1 or more")

    def __call__(self, job_id: int) -> tuple[str, Strategy]:
        if job_id % self.every == 0:
            return self.name, SERVE_CHEATS[self.name]
        return "", honest
