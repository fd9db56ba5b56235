"""`vcp bench --load` end to end on a tiny setting (no speed asserted), and its journal check
catches lost, altered and duplicated records."""

from __future__ import annotations

import json
import sqlite3

import pytest

from vcp_toolkit.attest.eip712 import Domain
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.bench.load import check_journal
from vcp_toolkit.cli import main
from vcp_toolkit.commit.commitments import record_leaf
from vcp_toolkit.model.synthetic import random_inputs
from vcp_toolkit.prover import (BackgroundServer, Expected, InferenceClient, InferenceServer, Prover, ServeSettings,
                                served_records)

DOMAIN = Domain(31337, "0x" + "5e" * 20)


def test_bench_load_runs_the_real_server_and_finds_nothing_lost(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["bench", "--load", "--load-windows", "0,3", "--load-seconds", "0.5", "--load-clients", "4",
                 "--load-processes", "2", "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert json.loads((out / "load.json").read_text()) == result
    assert [r["window_ms"] for r in result["rows"]] == [0, 3]
    for row in result["rows"]:
        assert row["acknowledged"] > 0 and row["journaled"] == row["acknowledged"]
        assert (row["lost"], row["duplicated"], row["invalid_in_journal"], row["errors"]) == (0, 0, 0, 0)
        assert row["server_exit"] == 0 and row["p50_ms"] <= row["p99_ms"] <= row["max_ms"]


@pytest.fixture
def journal_and_acked(model, tmp_path):
    key = SigningKey.generate()
    journal = tmp_path / "journal.sqlite"
    expected = Expected(prover=key.address, domain=DOMAIN)
    acked = {}
    with BackgroundServer(InferenceServer(Prover(model, key, DOMAIN), journal, ServeSettings(port=0, window_ms=1))) as s:
        with InferenceClient(s.url, expected) as client:
            for i, row in enumerate(random_inputs(model, 5, seed=2)):
                acked[f"id{i}"] = record_leaf(*client.infer(row, int8=True, request_id=f"id{i}").record)
    return journal, acked, expected


def test_the_journal_check_counts_lost_and_altered_records(journal_and_acked):
    journal, acked, expected = journal_and_acked
    assert check_journal(journal, acked, expected)["lost"] == 0
    assert check_journal(journal, {**acked, "never-journaled": bytes(32)}, expected)["lost"] == 1
    assert check_journal(journal, {**acked, "id0": bytes(32)}, expected)["lost"] == 1
    assert check_journal(journal, dict(list(acked.items())[:3]), expected)["unacknowledged_in_journal"] == 2


def test_the_journal_check_counts_duplicates_and_unverifiable_answers(journal_and_acked, tmp_path):
    journal, acked, expected = journal_and_acked
    copy = tmp_path / "copy.sqlite"
    rows = [(r.leaf.hex(), r.request_id, r.group_id, r.index, r.answer) for r in served_records(journal)]
    with sqlite3.connect(copy) as db:  # no unique keys here: what a broken server could have written
        db.execute("CREATE TABLE served_records (leaf TEXT, request_id TEXT, group_id INT, idx INT, answer BLOB)")
        db.executemany("INSERT INTO served_records VALUES (?, ?, ?, ?, ?)", rows + rows[:1])
        tampered = json.loads(rows[1][4])
        tampered["output"][0] = (tampered["output"][0] + 1) % 100
        db.execute("UPDATE served_records SET answer = ? WHERE request_id = ?", (json.dumps(tampered).encode(), "id1"))
    checked = check_journal(copy, acked, expected)
    assert checked["duplicated"] == 2  # the same request id and the same leaf, once more each
    assert checked["invalid_in_journal"] == 1
