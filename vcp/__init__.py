"""vcp: verifiable off-chain inference. Fixed-point models, keccak commitments, EIP-712
attestations, and the contracts that check them.

The data flow, one module each: model -> quantize -> fixedpoint (inference) -> commitments
(encoding, merkle) -> attestation -> files -> chain -> verifier -> timing / demo.
"""

from vcp.attest.eip712 import Attestation, Domain, Signature
from vcp.errors import (
    AttestationMismatch,
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
    VcpError,
    VerificationFailed,
)
from vcp.model.quantize import QuantizedModel

__version__ = "0.1.0"

__all__ = [
    "Attestation", "AttestationMismatch", "ChainError", "ContractReverted", "DeploymentNotFound", "Domain", "FileUnreadable",
    "InvalidAttestationFile", "InvalidInput", "InvalidModel", "KeyUnavailable", "NodeStartError",
    "QuantizedModel", "Signature", "ToolMissing", "VcpError", "VerificationFailed", "__version__",
]
