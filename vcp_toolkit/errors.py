"""Every error vcp raises, under one root.

    VcpError
    ├── InvalidInput (ValueError)           bad argument or data given by the caller
    │   ├── InvalidModel                    a model file or layer that vcp cannot run
    │   ├── InvalidAttestationFile          an attestation or trace bundle that does not parse
    │   ├── FileUnreadable                  a file that could not be read: the check could not be done
    │   └── UsageError                      bad command-line usage (``vcp`` exits 2)
    ├── KeyUnavailable                      no signing key, wrong keystore password
    ├── VerificationFailed                  a check of an attestation did not hold
    │   └── AttestationMismatch             a recomputed value differs from the attested one
    ├── ChainError                          talking to a node failed
    │   ├── NodeStartError                  a local node could not be started
    │   ├── DeploymentNotFound              no deployment recorded for a chain
    │   ├── BlobsUnsupported                the chain has no EIP-4844 blobs (or cannot serve them)
    │   └── ContractReverted                a call or transaction reverted, with the error's named fields
    │       └── (one subclass per custom error of the contracts, see vcp.chain.reverts)
    ├── ZkError                             the zk pipeline (EZKL, the verifier build) failed
    └── ToolMissing                         an external tool (node, solcjs, EZKL) is not installed

The drawing is checked against the classes (tests/package/test_public_api.py).
"""

from __future__ import annotations

from typing import Any


class VcpError(Exception):
    """Root of every exception vcp raises on purpose."""


class InvalidInput(VcpError, ValueError):
    """The caller handed vcp something it cannot use."""


class InvalidModel(InvalidInput):
    """A model (weights file or layer list) that vcp cannot quantize or run."""


class InvalidAttestationFile(InvalidInput):
    """An attestation or trace-bundle file that is malformed or of an unknown version."""


class FileUnreadable(InvalidInput):
    """A file could not be read (missing, no permission, an I/O error): a check that needs it could
    not be carried out, which is not the same as invalid (``vcp verify`` exits 3)."""


class UsageError(InvalidInput):
    """Bad command-line usage: an unknown option, a missing argument, options that do not go together."""


class KeyUnavailable(VcpError):
    """No signing key could be loaded (missing, or the keystore password is wrong)."""


class VerificationFailed(VcpError):
    """An attestation did not verify; ``reason`` says which check failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AttestationMismatch(VerificationFailed):
    """A value recomputed by the verifier differs from the value the prover attested."""

    def __init__(self, where: str, expected: str, actual: str) -> None:
        super().__init__(f"{where} mismatch: attested {expected}, recomputed {actual}")
        self.where = where
        self.expected = expected
        self.actual = actual


class ChainError(VcpError):
    """Talking to an Ethereum node failed."""


class NodeStartError(ChainError):
    """A local node (Anvil, Ganache) did not start or did not answer in time."""


class DeploymentNotFound(ChainError):
    """No contract address is recorded for this chain in the deployments file."""


class BlobsUnsupported(ChainError):
    """The chain cannot carry or serve EIP-4844 blobs (a schedule before Cancun, py-evm via
    eth-tester, Ganache, or a node without a blob source)."""


class ContractReverted(ChainError):
    """A contract call reverted; subclasses name the contract's custom error.

    ``fields`` holds the error's arguments by their ABI names (``exc.fields["jobId"]``);
    ``error_args`` the same values in order."""

    def __init__(self, message: str, *, error_name: str = "", args: tuple = (),
                 fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.error_name = error_name
        self.error_args = tuple(args)
        self.fields: dict[str, Any] = dict(fields or {})


class ZkError(VcpError):
    """The zk pipeline failed (EZKL or the verifier build)."""


class ToolMissing(VcpError):
    """An external tool vcp needs (node, the npm packages) is not installed."""
