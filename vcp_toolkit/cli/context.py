"""The one place commands connect to a node, find deployed contracts, resolve the key and sender,
load the model and read inputs. Every command builds a ``Context`` from its parsed arguments and
asks it for what it needs; nothing is opened before it is asked for, and each thing once."""

from __future__ import annotations

import argparse
import sys
from functools import cached_property
from pathlib import Path

import numpy as np

from vcp_toolkit.errors import InvalidInput, KeyUnavailable

MAX_INPUT_BYTES = 16 * 2**20
ZERO_JOB_ID = "0x" + "00" * 32


def load_model(path: Path | str | None, calibration: Path | None = None, transformers: bool = False):
    """``--model`` (an .onnx file, a .q.npz, or None for the built-in digits model) and ``--calibration``.
    A built-in CNN name, an operator-graph file or an ONNX CNN give an IntGraph (model.graph.resolve)."""
    from vcp_toolkit.model.builtin import demo_model
    from vcp_toolkit.model.graph.resolve import is_graph_spec, load_graph_model
    from vcp_toolkit.model.quantize import QuantizedModel

    if is_graph_spec(path):
        return load_graph_model(path, calibration, transformers).graph
    if path is None:
        if calibration is not None:
            raise InvalidInput("--calibration applies to .onnx models only")
        return demo_model()
    if Path(path).suffix.lower() == ".onnx":
        from vcp_toolkit.model.onnx_io import load_onnx_model

        return load_onnx_model(path, calibration)
    if calibration is not None:
        raise InvalidInput("--calibration applies to .onnx models only (a .q.npz is already quantized)")
    return QuantizedModel.load(path)


def _digits_input(spec: str, model) -> np.ndarray:
    from vcp_toolkit.model.datasets import load_digits_split

    split = load_digits_split()
    try:
        index = int(spec.split(":", 1)[1])
    except ValueError:
        raise InvalidInput(f"--input {spec}: expected digits:N with N an integer") from None
    if not 0 <= index < len(split.x_test):
        raise InvalidInput(f"--input {spec}: N must be in 0..{len(split.x_test) - 1}")
    return model.quantize_input(split.x_test[index])


def _file_values(spec: str, width: int) -> np.ndarray:
    from vcp_toolkit.attest.files import printable
    from vcp_toolkit.model.arrays import NPY_MAGIC, load_json, load_npy, read_file

    fix = f"pass digits:N, or a .npy / .json file of {width} numbers"
    raw = read_file(Path(spec), "--input file", MAX_INPUT_BYTES, InvalidInput, fix)
    what = f"--input file {printable(spec)}"
    if raw.startswith(NPY_MAGIC):
        return load_npy(raw, what, InvalidInput, fix)
    if Path(spec).suffix.lower() != ".json":
        raise InvalidInput(f"{what} is neither a .npy array nor a .json file; {fix}")
    values = load_json(raw, what, InvalidInput, fix)
    if not isinstance(values, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                               for v in values):
        raise InvalidInput(f"{what} is not a JSON list of numbers; {fix}")
    return np.array(values, dtype=np.float64)


def read_input(spec: str, model, as_int8: bool) -> np.ndarray:
    """``--input``: digits:N (dense models), mnist:N (CNNs taking 1x28x28), or a .npy / .json file of
    floats (int8 codes with ``as_int8``): a dense model's vector, or a CNN's image with its values in
    C, H, W order (any shape holding that many values)."""
    from vcp_toolkit.model.graph.graph import IntGraph

    graph = model if isinstance(model, IntGraph) else None
    if spec.startswith(("digits:", "mnist:")):
        return _sample_input(spec, model, graph)
    from vcp_toolkit.attest.files import printable

    width = int(np.prod(graph.input_shape)) if graph is not None else model.input_width
    values, shown = _file_values(spec, width), printable(spec)
    if values.size != width or (graph is None and values.ndim != 1):
        raise InvalidInput(f"--input {shown}: expected {width} values, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise InvalidInput(f"--input {shown}: values must be finite numbers")
    values = values.reshape(graph.input_shape) if graph is not None else values
    if as_int8:
        if not np.all(values == np.round(values)) or values.min() < -128 or values.max() > 127:
            raise InvalidInput(f"--input {shown}: --int8 values must be integers in [-128, 127]")
        return values.astype(np.int8)
    return model.quantize_input(values)


def _sample_input(spec: str, model, graph) -> np.ndarray:
    """digits:N (8x8 digits, dense models) or mnist:N (28x28 MNIST, CNNs): test-split sample N."""
    kind = spec.split(":", 1)[0]
    if graph is None:
        if kind == "mnist":
            raise InvalidInput(f"--input {spec}: mnist:N is for the 28x28 CNNs; this dense model takes digits:N "
                               "or a .npy / .json file")
        return _digits_input(spec, model)
    if kind == "digits" or tuple(graph.input_shape) != (1, 28, 28):
        raise InvalidInput(f"--input {spec}: this CNN takes {'x'.join(map(str, graph.input_shape))} images: pass "
                           "mnist:N (1x28x28 models) or a .npy / .json file of its values")
    return _mnist_input(spec, graph)


def _mnist_input(spec: str, graph) -> np.ndarray:
    from vcp_toolkit.model.datasets import load_mnist_split

    images = load_mnist_split().x_test
    try:
        index = int(spec.split(":", 1)[1])
    except ValueError:
        raise InvalidInput(f"--input {spec}: expected mnist:N with N an integer") from None
    if not 0 <= index < len(images):
        raise InvalidInput(f"--input {spec}: N must be in 0..{len(images) - 1}")
    return graph.quantize_input(images[index])


def read_range(spec: str) -> tuple[int, int]:
    """``--inputs digits:A-B``: (A, B), checked against the test split."""
    from vcp_toolkit.model.datasets import load_digits_split

    try:
        first, last = (int(v) for v in spec.removeprefix("digits:").split("-"))
    except ValueError:
        raise InvalidInput("--inputs must look like digits:A-B") from None
    size = len(load_digits_split().x_test)
    if not 0 <= first < last <= size:
        raise InvalidInput(f"--inputs: need 0 <= A < B <= {size}")
    return first, last


class Context:
    """What a command needs from its arguments: chain, deployments, key, sender, model, input."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args

    # ------------------------------------------------------------------ model and inputs

    @cached_property
    def model(self):
        from vcp_toolkit.cli.graphs import GRAPH_COMMANDS, supported

        spec, command = getattr(self.args, "model", None), getattr(self.args, "command", None)
        return supported(load_model(spec, getattr(self.args, "calibration", None), command in GRAPH_COMMANDS),
                         spec, command)

    def input(self) -> np.ndarray:
        return read_input(self.args.input, self.model, self.args.int8)

    # ------------------------------------------------------------------ chain and contracts

    @cached_property
    def chain(self):
        from vcp_toolkit.chain.nodes import RpcChain

        return RpcChain(self.args.rpc_url)

    def deployment(self, name: str, registry: str | None = None):
        """``name`` in the contract set of ``registry`` (an attestation's verifyingContract), or in
        the set the last `vcp deploy` made on this chain."""
        from vcp_toolkit.chain import deployments

        return deployments.lookup(self.args.deployments, self.chain, name, registry)

    def registry(self, address: str | None = None):
        """The recorded registry at ``address`` (pass an attestation's verifyingContract, so that one
        made before a redeploy is checked against its own registry), or the current one."""
        from vcp_toolkit.chain.registry import Registry

        return Registry(self.chain, self.deployment("AttestationRegistry", address).address)

    def exchange(self, sender=None):
        """The stores of --exchange: ``calldata:`` (or ``calldata:0xADDRESS``) is DataAnchor on this
        chain, publishing with ``sender`` (read-only without); anything else is ``open_store``'s."""
        from vcp_toolkit.ops.da import ON_CHAIN, refuse_near_misses
        from vcp_toolkit.ops.exchange import Exchange

        for spec in self.args.exchange:
            refuse_near_misses(spec)
        return Exchange([self._calldata_store(spec, sender) if ON_CHAIN.match(spec) else spec
                         for spec in self.args.exchange])

    def _calldata_store(self, spec: str, sender):
        """``calldata:[0xADDRESS]`` (DataAnchor) or ``blobs:[0xADDRESS]`` (BlobAnchor) on this chain."""
        from vcp_toolkit.attest.eip712 import parse_address

        kind, _, address = spec.partition(":")
        kind = kind.lower()
        if address:
            at = parse_address(address, f"--exchange {kind}:ADDRESS")
            return self._anchor_store(kind, at, 0, sender, check_code=True)
        recorded = self._recorded_anchor("DataAnchor" if kind == "calldata" else "BlobAnchor", kind)
        return self._anchor_store(kind, recorded.address, recorded.block, sender, check_code=False)

    def _recorded_anchor(self, name: str, kind: str):
        from vcp_toolkit.errors import DeploymentNotFound

        try:
            return self.deployment(name)
        except DeploymentNotFound as exc:
            if f"no {name} recorded" not in str(exc):
                raise
            why = ("deployed before vcp deployed one" if kind == "calldata" else
                   "`vcp deploy` deploys one only on a chain that carries blobs: Cancun or later, not py-evm or Ganache")
            raise DeploymentNotFound(f"{self.args.deployments} records no {name} for chain {self.chain.chain_id} "
                                     f"({why}): pass --exchange {kind}:0xADDRESS of a {name}, or another "
                                     "store") from None

    def _anchor_store(self, kind: str, address: str, since_block: int, sender, check_code: bool):
        if kind == "calldata":
            from vcp_toolkit.chain.anchor import DataAnchor
            from vcp_toolkit.ops.calldata_store import CalldataStore

            anchor = DataAnchor.at(self.chain, address) if check_code else DataAnchor(self.chain, address, since_block)
            return CalldataStore(anchor, sender)
        from vcp_toolkit.chain.blob_anchor import BlobAnchor, require_blobs
        from vcp_toolkit.ops.eip4844_store import Eip4844Store

        require_blobs(self.chain)
        if check_code:
            _check_code(self.chain, address, "BlobAnchor")
        return Eip4844Store(BlobAnchor(self.chain, address, since_block), sender)

    def optimistic(self):
        from vcp_toolkit.chain.optimistic import OptimisticInference

        return OptimisticInference(self.chain, self.deployment("OptimisticInference").address)

    def domain(self):
        """The EIP-712 domain to prove for: from --rpc-url and the deployments file, or --chain-id and --registry."""
        from vcp_toolkit.attest.eip712 import Domain, parse_address

        if self.args.rpc_url:
            address = self.deployment("AttestationRegistry").address
            return Domain(self.chain.chain_id, parse_address(address, "registry"))
        if self.args.chain_id is None or self.args.registry is None:
            raise InvalidInput("prove needs --rpc-url, or both --chain-id and --registry")
        if self.args.chain_id <= 0:
            raise InvalidInput("--chain-id must be positive")
        return Domain(self.args.chain_id, parse_address(self.args.registry, "--registry"))

    # ------------------------------------------------------------------ keys and senders

    def key(self, purpose: str = "sign", dev_fallback: bool = False):
        """--keystore or $VCP_PRIVATE_KEY; with ``dev_fallback`` on a dev node, a fresh funded key."""
        from vcp_toolkit.attest.keys import SigningKey, load_key

        key = load_key(self.args.keystore)
        if key is not None:
            return key
        if dev_fallback and self.chain.dev_accounts():
            # A dev node: use a throw-away key funded from its unlocked account.
            print("vcp: no key given; using a fresh key funded by the dev node", file=sys.stderr)
            return SigningKey.generate()
        raise KeyUnavailable(f"no key to {purpose} with: pass --keystore FILE or set VCP_PRIVATE_KEY "
                             "(`vcp keygen --out key.json` makes a keystore)")

    def sender(self, purpose: str):
        """A sender with the command's key on --rpc-url, funded when the node is a dev node."""
        from vcp_toolkit.chain.tx import Sender

        sender = Sender(self.chain, self.key(purpose, dev_fallback=True).reveal())
        if self.chain.dev_accounts():
            sender.ensure_funded()
        return sender

    def optimistic_client(self, purpose: str):
        """(contract, funded sender) for the optimistic commands; the deployment is checked first."""
        contract = self.optimistic()
        return contract, self.sender(purpose)

    def submitter(self, address: str | None = None):
        """(submitter, journal) for the registry at ``address`` (default: the current one): the node,
        the deployment and the key are checked before the journal is opened."""
        from vcp_toolkit.ops.journal import Journal
        from vcp_toolkit.ops.submitter import Submitter

        registry = self.registry(address)
        sender = self.sender("pay for the transaction")
        journal = Journal(self.args.journal)
        return Submitter(registry, sender, journal), journal


def _check_code(chain, address: str, artifact: str) -> None:
    """``address`` holds ``artifact``'s deployed code: publishing to anything else publishes nothing."""
    from vcp_toolkit.contracts import load_artifact

    code = bytes(chain.w3.eth.get_code(address))
    if "0x" + code.hex() != load_artifact(artifact)["deployedBytecode"]:
        raise InvalidInput(f"{address} on chain {chain.chain_id} is not a {artifact} "
                           f"({'no code' if not code else 'other code'}): name the address `vcp deploy` printed")
