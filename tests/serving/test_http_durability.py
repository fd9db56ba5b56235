"""A server killed with SIGKILL mid-load loses nothing it acknowledged: after a restart on the same
journal, every acknowledged answer is there exactly once and verifies, no salt repeats, and a
retried request id gets its journaled answer instead of a second record."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from vcp_toolkit.attest.eip712 import Domain
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.bench.load import CHAIN_ID, REGISTRY, ServerProcess
from vcp_toolkit.commit.commitments import ModelCommitment, record_leaf
from vcp_toolkit.model.synthetic import random_inputs
from vcp_toolkit.prover import (AsyncInferenceClient, AttestedAnswer, Expected, InferenceClient, ServerUnavailable,
                                served_records, verify_answer)

pytestmark = pytest.mark.faults


async def _load_until_killed(server: ServerProcess, expected: Expected, inputs, kill_after: float) -> dict:
    acked: dict[str, AttestedAnswer] = {}

    async def worker(client: AsyncInferenceClient, i: int) -> None:
        n = 0
        while True:
            rid = f"c{i}-{n}"
            n += 1
            try:
                acked[rid] = await client.infer(inputs[(7 * i + n) % len(inputs)], int8=True, request_id=rid)
            except ServerUnavailable:
                return

    async with AsyncInferenceClient(server.url, expected, timeout=10) as client:
        asyncio.get_running_loop().call_later(kill_after, server.process.kill)  # SIGKILL: no shutdown code runs
        await asyncio.gather(*(worker(client, i) for i in range(16)))
    return acked


def test_sigkill_mid_load_loses_and_duplicates_nothing(model, tmp_path):
    key = SigningKey.generate()
    expected = Expected(prover=key.address, model_root=ModelCommitment(model).root, domain=Domain(CHAIN_ID, REGISTRY))
    inputs = random_inputs(model, 256, seed=5)
    server = ServerProcess(tmp_path, key, 2.0, 64)
    try:
        acked = asyncio.run(_load_until_killed(server, expected, inputs, kill_after=1.5))
    finally:
        server.kill()
    assert server.process.returncode == -9 and len(acked) > 20
    records = served_records(server.journal)
    journaled = {r.request_id: r for r in records}
    assert max(Counter(r.request_id for r in records).values()) == 1
    for rid, answer in acked.items():
        assert journaled[rid].leaf == record_leaf(*answer.record), rid
    answers = [AttestedAnswer.from_bytes(r.answer) for r in records]
    for answer in answers:
        verify_answer(answer, expected)
    salts = [a.input_salt for a in answers] + [a.output_salt for a in answers]
    assert len(set(salts)) == len(salts)

    with ServerProcess(tmp_path, key, 2.0, 64) as again, InferenceClient(again.url, expected) as client:
        for rid in list(acked)[:10]:  # a client retrying after the crash
            answer = client.infer(acked[rid].input, int8=True, request_id=rid)
            assert answer.record == acked[rid].record and answer.input_salt == acked[rid].input_salt
        fresh = client.infer(inputs[0], int8=True, request_id="after-restart")
    after = served_records(server.journal)
    assert len(after) == len(records) + 1
    assert {a.input_salt for a in answers}.isdisjoint({fresh.input_salt})
