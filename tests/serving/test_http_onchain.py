"""Served answers on a real registry (embedded chain): once a served batch lands, verifyRecord
accepts every answer's record at its index with its proof, and refuses a forged one; the batch
exported from the journal passes the off-chain verifier; a window-0 answer lands on its own."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from vcp_toolkit.commit.commitments import record_leaf
from vcp_toolkit.model.synthetic import random_inputs
from vcp_toolkit.prover import (BackgroundServer, Expected, InferenceClient, InferenceServer, Prover, ServeSettings,
                                export_batch, served_records)
from vcp_toolkit.verifier import verify_batch_files

pytestmark = pytest.mark.chain


def _answers(url, expected, rows):
    def one(row):
        with InferenceClient(url, expected) as client:
            return client.infer(row, int8=True)

    with ThreadPoolExecutor(8) as pool:  # concurrent, so several answers share a batch
        return list(pool.map(one, rows))


def test_served_batches_land_and_every_record_verifies_on_chain(registry_setup, model, tmp_path):
    registry, operator, key = registry_setup
    journal = tmp_path / "journal.sqlite"
    prover = Prover(model, key, registry.domain)
    rows = random_inputs(model, 24, seed=21)
    expected = Expected(prover=key.address, model_root=prover.model_root, domain=registry.domain)
    with BackgroundServer(InferenceServer(prover, journal, ServeSettings(port=0, window_ms=30))) as server:
        answers = _answers(server.url, expected, rows)
    batches = {a.batch: a.signature for a in answers}
    assert len(batches) < len(answers)  # some requests did share a batch
    for answer in answers:  # not landed yet: the registry knows no such batch
        assert not registry.verify_record(answer.batch, answer.record, answer.index, list(answer.proof))
    for batch, signature in batches.items():
        registry.submit_batch(operator, batch, signature)
    for answer in answers:
        assert registry.verify_record(answer.batch, answer.record, answer.index, list(answer.proof))
        forged = (answer.record[0], answer.record[1], bytes(32))
        assert not registry.verify_record(answer.batch, forged, answer.index, list(answer.proof))
    group_of = {r.leaf: r.group_id for r in served_records(journal)}
    assert len(set(group_of.values())) == len(batches)
    exported = {group: export_batch(journal, group, model.name, list(model.widths), tmp_path / "export")[0]
                for group in set(group_of.values())}
    for path in exported.values():
        report = verify_batch_files(path, model, expected_prover=key.address)
        assert report.valid, report.reason
    for answer in answers:  # each answer's own record, re-executed from the exported bundle
        path = exported[group_of[record_leaf(*answer.record)]]
        report = verify_batch_files(path, model, index=answer.index, expected_prover=key.address)
        assert report.valid and report.label == answer.label, report.reason


def test_a_window_zero_answer_is_a_single_attestation_the_registry_records(registry_setup, model, tmp_path):
    registry, operator, key = registry_setup
    prover = Prover(model, key, registry.domain)
    row = random_inputs(model, 1, seed=3)[0]
    with BackgroundServer(InferenceServer(prover, tmp_path / "j.sqlite", ServeSettings(port=0, window_ms=0))) as s:
        with InferenceClient(s.url, Expected(prover=key.address, domain=registry.domain)) as client:
            answer = client.infer(row, int8=True)
    assert answer.batch is None and answer.attestation is not None
    submission = registry.submit(operator, answer.attestation, answer.signature)
    assert submission.digest == answer.attestation.digest(registry.domain)
