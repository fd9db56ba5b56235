"""Stage 2, commitments: byte encodings, keccak Merkle trees, and the roots vcp commits to
(model, input, trace, output, batch records)."""

from vcp_toolkit._exports import lazy_exports

_PUBLIC = {
    "BatchCommitments": "vcp_toolkit.commit.commitments",
    "ModelCommitment": "vcp_toolkit.commit.commitments",
    "commit_batch": "vcp_toolkit.commit.commitments",
    "input_commitment": "vcp_toolkit.commit.commitments",
    "output_commitment": "vcp_toolkit.commit.commitments",
    "record_leaf": "vcp_toolkit.commit.commitments",
    "trace_root": "vcp_toolkit.commit.commitments",
    "MerkleProof": "vcp_toolkit.commit.merkle",
    "MerkleTree": "vcp_toolkit.commit.merkle",
    "proof_depth": "vcp_toolkit.commit.merkle",
    "verify_proof": "vcp_toolkit.commit.merkle",
}
__all__ = ["BatchCommitments", "MerkleProof", "MerkleTree", "ModelCommitment", "commit_batch",
    "input_commitment", "output_commitment", "proof_depth", "record_leaf", "trace_root", "verify_proof"]
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
