"""Stage 3, attestation: EIP-712 typed data and signatures, keys, and the file formats (one
strict loader for every file vcp reads)."""
