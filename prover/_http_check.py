"""The client's check of one answer: the commitments open with the salts to the input sent and the
output received, and the record is signed (alone, or in a batch through its inclusion proof) by
the expected prover for the expected model, chain and registry."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from vcp_toolkit.attest.eip712 import Domain, Signable, Signature, recover_signer
from vcp_toolkit.commit.commitments import input_commitment, output_commitment, record_leaf
from vcp_toolkit.commit.merkle import MerkleProof, verify_proof
from vcp_toolkit.prover._http_wire import AnswerInvalid, AttestedAnswer


@dataclass(frozen=True)
class Expected:
    """What a client requires of every answer; None accepts any value (the signature must still
    recover to the prover the attestation names)."""

    prover: str | None = None
    model_root: bytes | None = None
    domain: Domain | None = None
    output_width: int | None = None


@lru_cache(maxsize=4096)
def _signer(signed: Signable, domain: Domain, signature: Signature) -> str:
    """One ecrecover per batch, not per record: every record of a batch shares its signature."""
    return recover_signer(signed, domain, signature)


def _check_commitments(answer: AttestedAnswer, sent: np.ndarray | None) -> None:
    if sent is not None and not np.array_equal(np.asarray(sent, dtype=np.int8).ravel(), answer.input):
        raise AnswerInvalid("the answer's input is not the input sent")
    if input_commitment(answer.input_salt, answer.input) != answer.input_commitment:
        raise AnswerInvalid("the input commitment does not open to the input with the input salt")
    if output_commitment(answer.output_salt, answer.output) != answer.output_commitment:
        raise AnswerInvalid("the output commitment does not open to the output with the output salt")


def _signed_part(answer: AttestedAnswer) -> Signable:
    """The attestation or the batch, after checking that it covers this record."""
    if answer.attestation is not None:
        a = answer.attestation
        if (a.input_commitment, a.output_commitment, a.trace_root) != answer.record:
            raise AnswerInvalid("the signed attestation is for another record")
        return a
    batch = answer.batch
    leaf = record_leaf(*answer.record)
    if not verify_proof(batch.records_root, leaf, MerkleProof(answer.index, answer.proof), batch.count):
        raise AnswerInvalid(f"record {answer.index} is not in the signed batch (inclusion proof fails)")
    return batch


def verify_answer(answer: AttestedAnswer, expected: Expected = Expected(), sent: np.ndarray | None = None) -> str:
    """Raise AnswerInvalid unless the answer holds; return the signer's address."""
    _check_commitments(answer, sent)
    if expected.output_width is not None and answer.output.shape[0] != expected.output_width:
        raise AnswerInvalid(f"the output has {answer.output.shape[0]} values, the model gives {expected.output_width}")
    signed = _signed_part(answer)
    if expected.model_root is not None and signed.model_root != expected.model_root:
        raise AnswerInvalid("the answer is signed for another model")
    if expected.domain is not None and answer.domain != expected.domain:
        raise AnswerInvalid("the answer is signed for another chain or registry (EIP-712 domain)")
    try:
        signer = _signer(signed, answer.domain, answer.signature)
    except ValueError as exc:  # InvalidInput, or a value eth-keys refuses (r or s out of range)
        raise AnswerInvalid(f"signature: {exc}") from None
    if signer != signed.prover:
        raise AnswerInvalid(f"signature: recovers to {signer}, not the prover {signed.prover} it names")
    if expected.prover is not None and signer.lower() != expected.prover.lower():
        raise AnswerInvalid(f"signature: signed by {signer}, not the expected prover {expected.prover}")
    return signer
