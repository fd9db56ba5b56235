"""find_fault's typed result and the evidence objects, off-chain (the on-chain side is in
tests/chain/test_optimistic.py)."""

from __future__ import annotations

import secrets

import pytest

from vcp_toolkit.prover import cheats, honest
from vcp_toolkit.commit.commitments import input_commitment, output_commitment, trace_root
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.synthetic import random_inputs
from vcp_toolkit.verifier import (
    Claim, Consistent, Fault, InputEvidence, NeuronEvidence, OutputEvidence, Unusable, evidence_for, find_fault,
    neuron_evidence,
)
from vcp_toolkit.chain.evidence import FraudKind


def _claimed(answer, salt=None):
    return Claim(input_commitment(salt or answer.input_salt, answer.trace[0]),
                 output_commitment(answer.output_salt, answer.trace[-1]), trace_root(answer.trace))


@pytest.fixture
def job(model):
    x, salt = random_inputs(model, 1, seed=5)[0], secrets.token_bytes(32)
    return x, salt


def test_honest_trace_is_consistent(model, job):
    x, salt = job
    answer = honest(model, x, salt)
    assert find_fault(model, _claimed(answer), answer.trace, answer.input_salt, answer.output_salt) == Consistent()
    assert find_fault(model, _claimed(answer), answer.trace, answer.input_salt, answer.output_salt,
                      true_input=(x, salt)) == Consistent()


def test_a_trace_that_does_not_open_the_roots_is_unusable_not_an_exception(model, job):
    x, salt = job
    answer = honest(model, x, salt)
    claim = _claimed(answer)
    other = Claim(claim.input_commitment, claim.output_commitment, b"\x00" * 32)
    assert isinstance(find_fault(model, other, answer.trace, answer.input_salt, answer.output_salt), Unusable)
    bad_salt = secrets.token_bytes(32)
    assert isinstance(find_fault(model, claim, answer.trace, bad_salt, answer.output_salt), Unusable)
    assert isinstance(find_fault(model, claim, answer.trace, answer.input_salt, bad_salt), Unusable)
    short = answer.trace[:-1]
    claim_short = Claim(claim.input_commitment, claim.output_commitment, trace_root(short))
    assert isinstance(find_fault(model, claim_short, short, answer.input_salt, answer.output_salt), Unusable)


def test_caller_data_that_does_not_open_its_commitment_is_a_vcp_error(model, job):
    x, salt = job
    answer = honest(model, x, salt)
    with pytest.raises(InvalidInput):
        find_fault(model, _claimed(answer), answer.trace, answer.input_salt, answer.output_salt,
                   true_input=(x, secrets.token_bytes(32)))
    with pytest.raises(InvalidInput):
        find_fault(model, _claimed(answer), answer.trace, answer.input_salt, answer.output_salt,
                   claimed_output=(answer.trace[-1], secrets.token_bytes(32)))


def test_evidence_objects_for_each_fault(model, model_commitment, job):
    x, salt = job
    lie = cheats.wrong_output(model, x, salt)
    fault = find_fault(model, _claimed(lie), lie.trace, lie.input_salt, lie.output_salt)
    assert isinstance(fault, Fault) and fault.kind == FraudKind.NEURON
    evidence = evidence_for(fault, model_commitment, lie.trace)
    assert isinstance(evidence, NeuronEvidence) and evidence.kind == FraudKind.NEURON
    assert evidence == neuron_evidence(model_commitment, lie.trace, fault.layer, fault.row)
    (struct,) = evidence.abi_args()
    assert struct[0] == evidence.neuron.as_tuple() and len(struct) == 7

    swapped = cheats.input_swapped(random_inputs(model, 2, seed=9)[1])(model, x, salt)
    claim = Claim(input_commitment(salt, x), output_commitment(swapped.output_salt, swapped.trace[-1]),
                  trace_root(swapped.trace))
    fault = find_fault(model, claim, swapped.trace, swapped.input_salt, swapped.output_salt, true_input=(x, salt))
    assert fault.kind == FraudKind.INPUT
    assert isinstance(evidence_for(fault, model_commitment, swapped.trace, true_input=(x, salt)), InputEvidence)
    with pytest.raises(InvalidInput):
        evidence_for(fault, model_commitment, swapped.trace)  # the real input is needed

    answer = honest(model, x, salt)
    claimed = answer.trace[-1].copy()
    claimed[0] = 127 if claimed[0] != 127 else 0
    claim = Claim(input_commitment(salt, x), output_commitment(answer.output_salt, claimed), trace_root(answer.trace))
    fault = find_fault(model, claim, answer.trace, answer.input_salt, answer.output_salt,
                       claimed_output=(claimed, answer.output_salt))
    assert fault.kind == FraudKind.OUTPUT
    evidence = evidence_for(fault, model_commitment, answer.trace, claimed_output=(claimed, answer.output_salt))
    assert isinstance(evidence, OutputEvidence) and len(evidence.abi_args()) == 4


def test_no_evidence_without_a_fault(model, model_commitment, job):
    x, salt = job
    answer = honest(model, x, salt)
    with pytest.raises(InvalidInput):
        evidence_for(Consistent(), model_commitment, answer.trace)
    with pytest.raises(InvalidInput):
        neuron_evidence(model_commitment, answer.trace, len(model.layers), 0)
