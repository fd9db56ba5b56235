"""EZKL on the vision transformer, the fast parts: its settings, the memory rule's refusal, the guarded
stage runner's limits and the row format. The whole attempt (setup and proof, minutes and GBs) is
measured by `vcp bench` (bench/vit_zk.py, docs/vit_zk.md), never here."""

from __future__ import annotations

import json
import time

import pytest

from vcp_toolkit.bench import cnn_runs, vit_zk
from vcp_toolkit.bench.cnn_report import cnn_runs_section
from vcp_toolkit.errors import ZkError
from vcp_toolkit.model.graph.vit_import import builtin_vit_path
from vcp_toolkit.zk import onnx_file
from vcp_toolkit.zk.guarded import StageFailed, StageLimits, death, run_guarded


def _settings(tmp_path, choice: onnx_file.SettingsChoice) -> dict:
    import ezkl

    path = tmp_path / "settings.json"
    ezkl.gen_settings(str(builtin_vit_path()), str(path), py_run_args=choice.run_args())
    return json.loads(path.read_text())


def test_the_cheaper_choice_halves_the_rows_and_keeps_the_lookups(tmp_path):
    default, cheaper = (onnx_file.settings_summary(_settings(tmp_path, c)) for c in vit_zk.CHOICES)
    assert (cheaper["input_scale"], cheaper["param_scale"], cheaper["num_inner_cols"]) == (7, 7, 4)
    assert default["num_inner_cols"] == 2
    assert default["rows"] > 2**19 > cheaper["rows"]  # 2**20 rows at EZKL's default, 2**19 fit the cheaper
    # the transformer's nonlinearities are lookup tables: GELU's Erf and Softmax's Exp
    assert default["lookups"] == cheaper["lookups"] == ["Erf", "Exp"]


def test_the_batch_dimension_is_the_files_own():
    assert onnx_file.SettingsChoice("x", batch_variable="N").run_args().variables == [("N", 1)]
    assert all(c.batch_variable == "N" for c in vit_zk.CHOICES)


def test_the_memory_rule_refuses_with_what_it_would_need():
    why = vit_zk.memory_refusal(20, 22 * 2**30)
    assert why == ("refused by vcp before setup: needs about 25 GiB to set up and prove (2**20 rows), "
                   "22.0 GiB available")
    assert vit_zk.memory_refusal(19, 22 * 2**30) is None
    assert vit_zk.memory_refusal(24, None) is None  # no /proc/meminfo: the stage ceilings still apply


def test_a_refused_attempt_stops_before_compile(monkeypatch, tmp_path):
    summary = {"logrows": 21, "rows": 1_500_000, "input_scale": 13, "param_scale": 13}
    monkeypatch.setattr(vit_zk, "run_guarded", lambda name, fn, args, limits: _ran(name, summary))
    monkeypatch.setattr(vit_zk, "available_memory", lambda: 22 * 2**30)
    monkeypatch.setattr(vit_zk, "vit_params", lambda: 27_978)
    row = vit_zk._Attempt(vit_zk.CHOICES[0], tmp_path).run("vit.onnx", None)
    assert list(row["stages"]) == ["settings"]
    assert not row["proven"] and row["failed_stage"] == "setup"
    assert row["why"].startswith("refused by vcp before setup: needs about 50 GiB")


def _ran(name: str, result):
    from vcp_toolkit.zk.guarded import StageRun

    assert name == "settings", f"{name} ran after the refusal"
    return StageRun(1.0, 50.0, result)


def _sleep_then(seconds: float, value):
    time.sleep(seconds)
    return value


def _fail():
    raise ValueError("unsupported operator: Foo\nmore detail")


def _hold(megabytes: int):
    block = bytearray(megabytes * 2**20)
    block[::4096] = b"\x01" * len(block[::4096])  # touch every page, so it is resident
    time.sleep(30)


def test_a_stage_returns_its_result_time_and_memory():
    run = run_guarded("settings", _sleep_then, (0.2, {"logrows": 19}), StageLimits(60))
    assert run.result == {"logrows": 19}
    assert 0.2 <= run.seconds < 5 and run.peak_rss_mb > 0


def test_a_stage_keeps_ezkls_error():
    with pytest.raises(ZkError, match=r"^compile: ValueError: unsupported operator: Foo$"):
        run_guarded("compile", _fail, (), StageLimits(60))


def test_a_stage_over_its_time_limit_is_stopped():
    with pytest.raises(ZkError, match=r"^setup: stopped by vcp at its time limit of 1 s"):
        run_guarded("setup", _sleep_then, (60, None), StageLimits(1))


def test_a_stage_over_its_memory_ceiling_is_stopped():
    with pytest.raises(StageFailed, match=r"^prove: stopped by vcp after \d+ s at .* GiB resident, over its memory "
                                          r"ceiling of 0\.2 GiB") as failed:
        run_guarded("prove", _hold, (400,), StageLimits(60, 2**30 // 5))
    assert failed.value.stage == "prove" and failed.value.peak_rss_mb > 0.2 * 1024
    assert isinstance(failed.value, ZkError)


def test_a_stopped_stage_is_recorded_with_what_it_held(monkeypatch, tmp_path):
    def stopped(name, fn, args, limits):
        raise StageFailed(name, "stopped by vcp after 281 s at 21.4 GiB resident", 281.0, 21.4 * 1024)

    monkeypatch.setattr(vit_zk, "run_guarded", stopped)
    monkeypatch.setattr(vit_zk, "vit_params", lambda: 27_978)
    attempt = vit_zk._Attempt(vit_zk.CHOICES[1], tmp_path)
    with pytest.raises(StageFailed):
        attempt.stage("prove", len, ())
    assert attempt.row["stages"]["prove"] == {"s": 281.0, "peak_rss_mb": 21.4 * 1024, "failed": True}
    assert attempt.row["failed_stage"] == "prove"


def test_a_killed_stage_is_named_as_such():
    assert death(-9) == "EZKL's process was killed (SIGKILL), most likely by the kernel for lack of memory"
    assert death(-11) == "EZKL's process died of signal SIGSEGV"
    assert death(1) == "EZKL's process exited with code 1 without an answer"


PROVEN = {"model": "vit", "setting": "scales 7, 4 inner columns, at most 2**19 rows", "params": 27_978,
          "logrows": 19, "rows": 441_269, "input_scale": 7, "param_scale": 7, "proven": True, "proof_bytes": 5_000,
          "verifier_only_gas": 1_500_000,
          "stages": {"settings": {"s": 7.0, "peak_rss_mb": 300.0}, "setup": {"s": 400.0, "peak_rss_mb": 9_000.0},
                     "prove": {"s": 200.0, "peak_rss_mb": 12_800.0}}}
REFUSED = {"model": "vit", "setting": "EZKL-calibrated scales, 2 inner columns", "params": 27_978, "logrows": 20,
           "rows": 785_618, "input_scale": 13, "param_scale": 13, "proven": False, "failed_stage": "setup",
           "why": "refused by vcp before setup: needs about 25 GiB", "stages": {"settings": {"s": 29.0,
                                                                                          "peak_rss_mb": 400.0}}}


def test_the_rows_as_the_report_shows_them():
    assert vit_zk.row_cells(PROVEN) == [PROVEN["setting"], 19, 441_269, "7/7", "7.0 s", "400.0 s", "200.0 s",
                                        "12.5 GB", 5_000, 1_500_000, "proven, verified"]
    assert vit_zk.row_cells(REFUSED) == [REFUSED["setting"], 20, 785_618, "13/13", "29.0 s", "", "", "0.4 GB", "",
                                         "", "failed at setup: refused by vcp before setup: needs about 25 GiB"]
    html = cnn_runs_section({"cnn": {"vit_zk": {"attempts": [REFUSED, PROVEN]}}})
    assert "EZKL on the vision transformer" in html and "441,269" in html and "failed at setup" in html


def test_vit_is_a_name_the_zk_runs_accept(monkeypatch):
    class Bench:
        operator = object()

        def zk_graph_figures(self, graph):
            raise AssertionError("the ViT is not a CNN")

    monkeypatch.setattr(vit_zk, "vit_zk_attempts", lambda gas: [REFUSED])
    out = cnn_runs.cnn_rows((), ("vit",), 1, lambda note: None, Bench().zk_graph_figures)
    assert out["zk"] == [] and out["vit_zk"]["attempts"] == [REFUSED]
