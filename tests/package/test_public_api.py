"""The public surface: exact export lists (so drift is a deliberate change) and the error tree."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from vcp_toolkit import contracts
from vcp_toolkit import prover
from vcp_toolkit import verifier
import vcp_toolkit as vcp
import vcp_toolkit.errors  # noqa: F401 - vcp.errors below
from vcp_toolkit.chain import reverts

VCP_ALL = [
    "Attestation", "AttestationMismatch", "BlobsUnsupported", "ChainError", "ContractReverted", "DeploymentNotFound", "Domain", "FileUnreadable",
    "InvalidAttestationFile", "InvalidInput", "InvalidModel", "KeyUnavailable", "NodeStartError", "QuantizedModel",
    "Signature", "ToolMissing", "UsageError", "VcpError", "VerificationFailed", "ZkError", "__version__",
]
PROVER_ALL = [
    "Answer", "AnswerInvalid", "AsyncInferenceClient", "AttestedAnswer", "BackgroundServer", "Expected",
    "InferenceClient", "InferenceServer", "RequestRejected", "ServeSettings", "ServedRecord", "ServerUnavailable",
    "GraphProver", "ServingError", "export_batch", "served_records", "verify_answer", "ProvenBatch", "ProvenInference", "Prover", "ProverService", "ProverTimings", "ServiceStep", "Strategy",
    "ZkProven", "honest", "prove_batch", "prove_zk", "prove_zk_file", "zk_attestation_for",
]
VERIFIER_ALL = [
    "CHECKS", "Claim", "Consistent", "Fault", "Finding", "InputEvidence", "NeuronEvidence", "OnchainStatus",
    "OutputEvidence", "Unusable", "VerificationReport", "WatchStep", "Watcher", "check_onchain", "evidence_for",
    "find_fault", "find_graph_fault", "graph_evidence_for", "verify_graph_attestation", "neuron_evidence", "verify_attestation", "verify_batch",
    "verify_batch_files",
    "verify_files", "check_zk_attestation", "verify_zk_proof", "load_any", "verify_any", "verify_loaded",
]
CONTRACTS_ALL = ["EVM_EXCEPTIONS", "EVM_VERSION", "artifact_names", "load_artifact"]


@pytest.mark.parametrize(
    ("module", "expected"),
    [(vcp, VCP_ALL), (prover, PROVER_ALL), (verifier, VERIFIER_ALL), (contracts, CONTRACTS_ALL)],
    ids=["vcp", "prover", "verifier", "contracts"],
)
def test_exports(module, expected):
    assert sorted(module.__all__) == sorted(expected)
    assert len(module.__all__) == len(set(module.__all__)), "duplicate names in __all__"
    for name in module.__all__:
        assert hasattr(module, name), f"{module.__name__}.__all__ names missing {name}"
    namespace: dict = {}
    exec(f"from {module.__name__} import *", namespace)  # noqa: S102 - the star import works
    assert set(expected) - {"__version__"} <= set(namespace)


def test_version():
    assert vcp.__version__ == "0.1.0"
    from importlib.metadata import version

    assert version("vcp-toolkit") == vcp.__version__


ERROR_NAMES = [
    "AttestationMismatch", "BlobsUnsupported", "ChainError", "ContractReverted", "DeploymentNotFound", "FileUnreadable",
    "InvalidAttestationFile",
    "InvalidInput", "InvalidModel", "KeyUnavailable", "NodeStartError", "ToolMissing", "UsageError", "VcpError",
    "VerificationFailed", "ZkError",
]
def test_error_classes_in_vcp_errors():
    classes = {n: c for n, c in inspect.getmembers(vcp.errors, inspect.isclass)
               if issubclass(c, BaseException) and c.__module__ == "vcp_toolkit.errors"}
    assert sorted(classes) == sorted(ERROR_NAMES)
    for name, cls in classes.items():
        assert issubclass(cls, vcp.errors.VcpError), name
        assert getattr(vcp, name) is cls  # every error is exported from vcp
        assert cls.__doc__
    assert importlib.import_module("vcp_toolkit.zk").ZkError is vcp.errors.ZkError
    assert importlib.import_module("vcp_toolkit.cli.options").UsageError is vcp.errors.UsageError


def _drawn_tree() -> dict[str, tuple[str | None, str]]:
    """name -> (parent, extra bases) as drawn in vcp.errors' docstring."""
    drawn: dict[str, tuple[str | None, str]] = {}
    path: list[str] = []
    for line in vcp.errors.__doc__.splitlines():
        match = re.match(r"^    ((?:[│ ]   )*)(?:[├└]── )?([A-Za-z]\w*)( \(\w+(?:, \w+)*\))?", line)
        if not match or (path == [] and match.group(2) != "VcpError"):
            continue
        depth = len(match.group(1)) // 4 + (1 if "── " in line else 0)
        del path[depth:]
        drawn[match.group(2)] = (path[-1] if path else None, (match.group(3) or "").strip(" ()"))
        path.append(match.group(2))
    return drawn


def test_error_tree_drawing_is_the_class_tree():
    drawn = _drawn_tree()
    classes = {n: c for n, c in inspect.getmembers(vcp.errors, inspect.isclass)
               if issubclass(c, vcp.errors.VcpError) and c.__module__ == "vcp_toolkit.errors"}
    assert sorted(drawn) == sorted(classes), "the drawing in vcp/errors.py misses or invents a class"
    for name, (parent, extra) in drawn.items():
        bases = classes[name].__bases__
        if parent is None:
            assert bases == (Exception,)
            continue
        assert bases[0] is classes[parent], f"{name} is drawn under {parent}, derives from {bases[0].__name__}"
        assert ", ".join(b.__name__ for b in bases[1:]) == extra, f"{name}: drawn ({extra}), bases {bases}"


def test_error_tree():
    e = vcp.errors
    assert issubclass(e.InvalidInput, ValueError)
    assert issubclass(e.InvalidModel, e.InvalidInput)
    assert issubclass(e.InvalidAttestationFile, e.InvalidInput)
    assert issubclass(e.AttestationMismatch, e.VerificationFailed)
    for cls in (e.NodeStartError, e.DeploymentNotFound, e.ContractReverted):
        assert issubclass(cls, e.ChainError)
    assert issubclass(e.UsageError, e.InvalidInput)
    for cls in (e.KeyUnavailable, e.VerificationFailed, e.ChainError, e.ToolMissing, e.ZkError):
        assert not issubclass(cls, ValueError)
    assert e.VcpError.__bases__ == (Exception,)


def test_error_attributes():
    e = vcp.errors
    err = e.AttestationMismatch("output commitment", "0xaa", "0xbb")
    assert err.reason == str(err) == "output commitment mismatch: attested 0xaa, recomputed 0xbb"
    assert (err.where, err.expected, err.actual) == ("output commitment", "0xaa", "0xbb")
    rev = e.ContractReverted("boom", error_name="X", args=(1, 2), fields={"a": 1, "b": 2})
    assert rev.error_name == "X" and rev.error_args == (1, 2) and str(rev) == "boom"
    assert rev.fields == {"a": 1, "b": 2}
    assert e.ContractReverted("plain").error_args == () and e.ContractReverted("plain").fields == {}


def test_revert_classes_are_contract_reverted():
    for name, cls in reverts.ERROR_CLASSES.items():
        assert issubclass(cls, vcp.errors.ContractReverted)
        assert issubclass(cls, vcp.errors.VcpError)
        assert cls.__name__ == name
    assert issubclass(reverts.PanicError, vcp.errors.ContractReverted)
    assert issubclass(reverts.ErrorString, vcp.errors.ContractReverted)
    defined = {n for n, c in inspect.getmembers(reverts, inspect.isclass)
               if issubclass(c, vcp.errors.ContractReverted) and c.__module__ == reverts.__name__}
    assert set(reverts.ERROR_CLASSES) == defined - {"PanicError", "ErrorString"}  # derived, nothing kept by hand


@pytest.mark.parametrize("module", ["vcp_toolkit.cli", "vcp_toolkit.demo.signed", "vcp_toolkit.chain.nodes", "vcp_toolkit.chain.registry", "vcp_toolkit.chain.tx",
                                    "vcp_toolkit.chain.deployments", "vcp_toolkit.chain.gas", "vcp_toolkit.model.builtin.train_digits"])
def test_modules_import(module):
    assert importlib.import_module(module)
