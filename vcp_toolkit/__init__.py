"""vcp: verifiable off-chain inference. Fixed-point models, keccak commitments, EIP-712
attestations, and the contracts that check them.

The data flow, one package per stage: vcp.model (float model, quantization, integer-only
inference) -> vcp.commit (encodings, Merkle roots) -> vcp.attest (EIP-712, keys, files) ->
vcp.chain (nodes, transactions, contract clients) -> vcp.ops (journal, submitter, exchange);
``prover`` and ``verifier`` are the two sides of every mode, vcp.zk the EZKL circuit, vcp.bench
the measurements. Each package lists its public names in ``__all__``.
"""

from vcp_toolkit.attest.eip712 import Attestation, Domain, Signature
from vcp_toolkit.errors import (
    AttestationMismatch,
    BlobsUnsupported,
    ChainError,
    ContractReverted,
    DeploymentNotFound,
    FileUnreadable,
    InvalidAttestationFile,
    InvalidInput,
    InvalidModel,
    KeyUnavailable,
    NodeStartError,
    ToolMissing,
    UsageError,
    VcpError,
    VerificationFailed,
    ZkError,
)
from vcp_toolkit.model.quantize import QuantizedModel

__version__ = "0.1.0"

__all__ = [
    "Attestation", "AttestationMismatch", "BlobsUnsupported", "ChainError", "ContractReverted", "DeploymentNotFound", "Domain", "FileUnreadable",
    "InvalidAttestationFile", "InvalidInput", "InvalidModel", "KeyUnavailable", "NodeStartError",
    "QuantizedModel", "Signature", "ToolMissing", "UsageError", "VcpError", "VerificationFailed", "ZkError",
    "__version__",
]
