"""Batched attestations: one signature and one root for N records; every record's inclusion proof
verifies on-chain, forged ones do not; the off-chain verifier checks a batch or one record."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from vcp_toolkit.prover import Prover, prove_batch
from vcp_toolkit.chain import reverts as r
from vcp_toolkit.commit.commitments import commit_batch, input_commitment, output_commitment, record_leaf, trace_root
from vcp_toolkit.attest.files import BatchBundle, BatchFile
from vcp_toolkit.model.synthetic import random_inputs
from vcp_toolkit.verifier import verify_batch, verify_batch_files

pytestmark = pytest.mark.chain


@pytest.fixture
def batch_setup(registry_setup, model):
    registry, operator, key = registry_setup
    prover = Prover(model, key, registry.domain)
    return registry, operator, prover


def test_batch_commitments_equal_one_by_one(model):
    x = random_inputs(model, 37, seed=5)
    traces = model.trace(x)
    salts_in, salts_out = bytes(range(32)) * 37, bytes(range(32, 64)) * 37
    batch = commit_batch(traces, salts_in, salts_out)
    for k in range(37):
        one = [t[k] for t in traces]
        ic = input_commitment(salts_in[32 * k:32 * k + 32], one[0])
        oc = output_commitment(salts_out[32 * k:32 * k + 32], one[-1])
        assert (batch.input_commitments[k], batch.output_commitments[k], batch.trace_roots[k]) == (ic, oc, trace_root(one))
        assert batch.leaves[k] == record_leaf(ic, oc, trace_root(one))


@pytest.mark.parametrize("count", [1, 2, 5, 64])
def test_every_record_proves_on_chain_and_forgeries_fail(batch_setup, model, count):
    registry, operator, prover = batch_setup
    proven = prove_batch(prover, random_inputs(model, count, seed=count))
    sub = registry.submit_batch(operator, proven.batch, proven.signature)
    assert sub.digest == proven.digest == registry.hash_batch(proven.batch)
    for index in range(count):
        record, proof = proven.record_proof(index)
        assert registry.verify_record(proven.batch, record, index, proof)
        forged = (record[0], record[1], bytes(32))
        assert not registry.verify_record(proven.batch, forged, index, proof)
        assert not registry.verify_record(proven.batch, record, index + count, proof)  # index outside the batch
        if count > 1:
            assert not registry.verify_record(proven.batch, record, (index + 1) % count, proof)
    other = dataclasses.replace(proven.batch, count=count + 1)  # not the recorded batch
    record, proof = proven.record_proof(0)
    assert not registry.verify_record(other, record, 0, proof)


def test_batch_errors(batch_setup, model):
    registry, operator, prover = batch_setup
    proven = prove_batch(prover, random_inputs(model, 4))
    registry.submit_batch(operator, proven.batch, proven.signature)
    with pytest.raises(r.RegistryNonceUsed):
        registry.submit_batch(operator, proven.batch, proven.signature)
    empty = dataclasses.replace(proven.batch, count=0, nonce=proven.batch.nonce + 1)
    from vcp_toolkit.attest.eip712 import sign_attestation

    with pytest.raises(r.RegistryEmptyBatch):
        registry.submit_batch(operator, empty, sign_attestation(empty, registry.domain, prover.key.reveal()))
    changed = dataclasses.replace(proven.batch, count=5, nonce=proven.batch.nonce + 2)
    with pytest.raises(r.RegistrySignerMismatch):
        registry.submit_batch(operator, changed, proven.signature)


def test_offchain_batch_and_single_record(batch_setup, model, tmp_path):
    registry, operator, prover = batch_setup
    proven = prove_batch(prover, random_inputs(model, 50, seed=2))
    path, bundle_path = proven.save(tmp_path / "batch.json")
    assert verify_batch_files(path, model).valid
    report = verify_batch_files(path, model, index=17)
    assert report.valid and report.label == int(np.argmax(proven.bundle.traces[-1][17]))

    # One wrong activation in one record: the batch and that record fail; another record still verifies.
    bundle = BatchBundle.load(bundle_path)
    traces = [t.copy() for t in bundle.traces]
    traces[1][17, 0] ^= 1
    bad = dataclasses.replace(bundle, traces=tuple(traces))
    signed = BatchFile.load(path)
    whole = verify_batch(signed, bad, model)
    assert not whole.valid and "record 17" in whole.reason
    assert not verify_batch(signed, bad, model, index=17).valid
    # Record 3 re-executes fine but the proof is built from the (tampered) bundle, whose root differs.
    assert verify_batch(signed, bundle, model, index=3).valid

    # A changed count or a resigned root by another key: rejected.
    lie = dataclasses.replace(signed, batch=dataclasses.replace(signed.batch, count=49))
    assert not verify_batch(lie, bundle, model).valid
    (tmp_path / "batch.bundle.npz").write_bytes(b"garbage")
    assert not verify_batch_files(path, model).valid  # sha256 differs


# ---------------------------------------------------------------- issue 10 (off-chain)


def test_record_proof_depth_is_fixed_by_count():
    """Point 5, off-chain: with count 2, a root node(node(L0, L1), R) opens index 1 both as R (depth
    1) and as L1 (depth 2). Only the proof of exactly ceil(log2(count)) siblings is accepted."""
    from vcp_toolkit.commit.encoding import leaf_hash, node_hash
    from vcp_toolkit.commit.merkle import MerkleProof, proof_depth, root_from_proof, verify_proof

    l0, l1, r = (leaf_hash(bytes([i])) for i in range(3))
    root = node_hash(node_hash(l0, l1), r)
    honest = MerkleProof(1, (node_hash(l0, l1),))
    deeper = MerkleProof(1, (l0, r))
    assert root_from_proof(r, honest) == root_from_proof(l1, deeper) == root  # both lead to the root ...
    assert verify_proof(root, r, honest, 2)
    assert not verify_proof(root, l1, deeper, 2)  # ... but only one has the depth count 2 implies
    assert not verify_proof(root, l0, MerkleProof(0, (l1, r)), 2)
    assert [proof_depth(n) for n in (1, 2, 3, 4, 5, 1024, 1025)] == [0, 1, 2, 2, 3, 10, 11]
    assert not verify_proof(l0, l0, MerkleProof(0, ()), 0)
    assert verify_proof(l0, l0, MerkleProof(0, ()), 1) and not verify_proof(l0, l0, MerkleProof(0, (l0,)), 1)


def test_offchain_batch_domain_and_model_section(model, tmp_path):
    """Points 8 and 9 for batches: another EIP-712 name/version is refused, and the unsigned
    model section (root and name) must match the signed batch and the model."""
    from vcp_toolkit.attest.eip712 import Domain
    from vcp_toolkit.attest.keys import SigningKey

    key = SigningKey(bytes.fromhex("21" * 32))
    for change in ({"name": "other"}, {"version": "2"}):
        domain = Domain(31337, "0x" + "5a" * 20, **change)
        proven = prove_batch(Prover(model, key, domain), random_inputs(model, 3, seed=4))
        path, _ = proven.save(tmp_path / f"{change}.json")
        report = verify_batch_files(path, model)
        assert not report.valid and report.reason.startswith("domain: ")
    proven = prove_batch(Prover(model, key, Domain(31337, "0x" + "5a" * 20)), random_inputs(model, 3, seed=4))
    path, _ = proven.save(tmp_path / "batch.json")
    assert verify_batch_files(path, model).valid
    import json

    from vcp_toolkit.errors import InvalidAttestationFile

    data = json.loads(path.read_text())
    data["model"]["root"] = "0x" + "ab" * 32
    with pytest.raises(InvalidAttestationFile, match="model.root"):
        BatchFile.from_json(data)
    signed = dataclasses.replace(BatchFile.load(path), model_name="another-model")
    report = verify_batch(signed, proven.bundle, model)
    assert not report.valid and report.reason.startswith("model section")


def test_batch_bundle_errors_are_typed(model, tmp_path):
    """Point 12: a bad bundle leaked BadZipFile, EOFError, TypeError, or allocated from a header
    claiming 10**13 rows; now every one is InvalidAttestationFile, and nothing is allocated first."""
    import io
    import zipfile

    from vcp_toolkit.attest.eip712 import Domain
    from vcp_toolkit.errors import InvalidAttestationFile
    from vcp_toolkit.attest.keys import SigningKey

    proven = prove_batch(Prover(model, SigningKey.generate(), Domain(31337, "0x" + "5a" * 20)),
                         random_inputs(model, 2, seed=1))
    _, good = proven.save(tmp_path / "b.json")
    raw = good.read_bytes()
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|i1", "fortran_order": False, "shape": (10**13, 64)})
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    members["trace0.npy"] = header.getvalue() + b"\x00" * 128
    huge = io.BytesIO()
    with zipfile.ZipFile(huge, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    for data in (b"", raw[:100], raw[:-7], b"PK\x03\x04" + b"\x00" * 40, huge.getvalue()):
        (tmp_path / "bad.npz").write_bytes(data)
        with pytest.raises(InvalidAttestationFile):
            BatchBundle.load(tmp_path / "bad.npz")
