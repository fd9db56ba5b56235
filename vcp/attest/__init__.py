"""Stage 3, attestation: EIP-712 typed data and signatures, keys, and the file formats (one
strict loader for every file vcp reads)."""

from vcp._exports import lazy_exports

_PUBLIC = {
    "Attestation": "vcp.attest.eip712",
    "BatchAttestation": "vcp.attest.eip712",
    "Domain": "vcp.attest.eip712",
    "Signature": "vcp.attest.eip712",
    "recover_signer": "vcp.attest.eip712",
    "sign_attestation": "vcp.attest.eip712",
    "AttestationFile": "vcp.attest.files",
    "BatchBundle": "vcp.attest.files",
    "BatchFile": "vcp.attest.files",
    "TraceBundle": "vcp.attest.files",
    "ZkAttestationFile": "vcp.attest.files",
    "read_json": "vcp.attest.files",
    "SigningKey": "vcp.attest.keys",
    "create_keystore": "vcp.attest.keys",
    "key_from_env": "vcp.attest.keys",
    "load_key": "vcp.attest.keys",
}
__all__ = ["Attestation", "AttestationFile", "BatchAttestation", "BatchBundle", "BatchFile", "Domain",
    "Signature", "SigningKey", "TraceBundle", "ZkAttestationFile", "create_keystore", "key_from_env", "load_key",
    "read_json", "recover_signer", "sign_attestation"]
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
