"""Stage 2, commitments: byte encodings, keccak Merkle trees, and the roots vcp commits to
(model, input, trace, output, batch records)."""

from vcp._exports import lazy_exports

_PUBLIC = {
    "BatchCommitments": "vcp.commit.commitments",
    "ModelCommitment": "vcp.commit.commitments",
    "commit_batch": "vcp.commit.commitments",
    "input_commitment": "vcp.commit.commitments",
    "output_commitment": "vcp.commit.commitments",
    "record_leaf": "vcp.commit.commitments",
    "trace_root": "vcp.commit.commitments",
    "MerkleProof": "vcp.commit.merkle",
    "MerkleTree": "vcp.commit.merkle",
    "proof_depth": "vcp.commit.merkle",
    "verify_proof": "vcp.commit.merkle",
}
__all__ = ["BatchCommitments", "MerkleProof", "MerkleTree", "ModelCommitment", "commit_batch",
    "input_commitment", "output_commitment", "proof_depth", "record_leaf", "trace_root", "verify_proof"]
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
