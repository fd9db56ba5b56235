"""Stage 2, commitments: byte encodings, keccak Merkle trees, and the roots vcp commits to
(model, input, trace, output, batch records)."""
