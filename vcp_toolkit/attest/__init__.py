"""Stage 3, attestation: EIP-712 typed data and signatures, keys, and the file formats (one
strict loader for every file vcp reads)."""

from vcp_toolkit._exports import lazy_exports

_PUBLIC = {
    "Attestation": "vcp_toolkit.attest.eip712",
    "BatchAttestation": "vcp_toolkit.attest.eip712",
    "Domain": "vcp_toolkit.attest.eip712",
    "Signature": "vcp_toolkit.attest.eip712",
    "recover_signer": "vcp_toolkit.attest.eip712",
    "sign_attestation": "vcp_toolkit.attest.eip712",
    "AttestationFile": "vcp_toolkit.attest.files",
    "BatchBundle": "vcp_toolkit.attest.files",
    "BatchFile": "vcp_toolkit.attest.files",
    "TraceBundle": "vcp_toolkit.attest.files",
    "ZkAttestationFile": "vcp_toolkit.attest.files",
    "read_json": "vcp_toolkit.attest.files",
    "SigningKey": "vcp_toolkit.attest.keys",
    "create_keystore": "vcp_toolkit.attest.keys",
    "key_from_env": "vcp_toolkit.attest.keys",
    "load_key": "vcp_toolkit.attest.keys",
}
__all__ = ["Attestation", "AttestationFile", "BatchAttestation", "BatchBundle", "BatchFile", "Domain",
    "Signature", "SigningKey", "TraceBundle", "ZkAttestationFile", "create_keystore", "key_from_env", "load_key",
    "read_json", "recover_signer", "sign_attestation"]
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
