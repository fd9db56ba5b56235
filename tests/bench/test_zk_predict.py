"""The zk predictions of `vcp estimate`: the power-law fit, the committed calibration, and a
prediction for a CNN from EZKL's calibrated size."""

from __future__ import annotations

import json

import pytest

from vcp_toolkit.bench.zk_calibration import CALIBRATION_FILE, Calibration, ZkPoint, load_calibration
from vcp_toolkit.bench.zk_predict import ZkModel, calibrated_model, fit_power_law, points_for, relative_error
from vcp_toolkit.errors import InvalidInput


def _point(logrows: int, instances: int, scale: float = 1.0) -> ZkPoint:
    n = 2.0 ** logrows
    return ZkPoint(circuit=f"c{logrows}", kind="graph", logrows=logrows, rows=int(n * 0.6), instances=instances,
                   setup_s=1e-4 * n * scale, prove_s=2e-5 * n ** 1.1, peak_rss_mb=0.01 * n, pk_bytes=int(300 * n),
                   proof_bytes=1000 + 200 * logrows, verifier_bytes=5000 + 500 * logrows,
                   verifier_gas=300_000 + 800 * instances + 20_000 * logrows,
                   registry_gas=300_000 + 800 * instances + 20_000 * logrows + 40_000 + 25 * instances)


def test_a_power_law_is_recovered_exactly():
    law = fit_power_law([2.0**15, 2.0**17, 2.0**19], [3 * (2.0**k) ** 1.25 for k in (15, 17, 19)])
    assert law.a == pytest.approx(3) and law.b == pytest.approx(1.25)
    assert fit_power_law([8.0, 8.0], [2.0, 8.0])(8.0) == pytest.approx(4.0)  # one size: the geometric mean


def test_the_model_predicts_points_of_its_own_law():
    model = ZkModel.fit(tuple(_point(k, i) for k, i in ((15, 74), (16, 794), (18, 100), (19, 400))))
    predicted = model.predict(17, 70_000, 200)
    truth = _point(17, 200)
    assert predicted.prove_s == pytest.approx(truth.prove_s, rel=1e-6)
    assert predicted.peak_rss_mb == pytest.approx(truth.peak_rss_mb, rel=1e-6)
    for figure in ("pk_bytes", "proof_bytes", "verifier_bytes", "verifier_gas", "registry_gas"):
        assert getattr(predicted, figure) == pytest.approx(getattr(truth, figure), rel=1e-9), figure
    assert relative_error(110, 100) == pytest.approx(0.1)


def test_the_committed_calibration_is_a_real_sweep():
    calibration = load_calibration()
    assert isinstance(calibration, Calibration) and len(calibration.points) >= 4
    assert len({p.logrows for p in calibration.points}) >= 3  # the laws are fitted across sizes
    for p in calibration.points:
        assert p.rows < 2**p.logrows and p.prove_s > 0 and p.registry_gas > p.verifier_gas > 0
    assert {p.kind for p in calibration.points} == {"dense", "graph"}
    for kind in ("dense", "graph"):
        model = calibrated_model(kind)
        assert model.powers["prove_s"].b > 0.5 and model.powers["pk_bytes"].b > 0.5  # costs grow with the domain
    # each kind spans two sizes, so it is fitted on its own points; an unknown kind on all of them
    assert {p.kind for p in points_for(calibration.points, "graph")} == {"graph"}
    assert points_for(calibration.points, "vit") == calibration.points


def test_an_unreadable_calibration_names_the_fix(tmp_path):
    bad = tmp_path / "cal.json"
    bad.write_text(json.dumps({"measured_on": "x", "machine": "y", "ezkl": "z", "points": [{"circuit": 1}]}))
    with pytest.raises(InvalidInput, match="python -m vcp_toolkit.bench.zk_calibration"):
        load_calibration(bad)
    assert CALIBRATION_FILE.name == "zk_calibration.json"


def test_a_cnn_prediction_uses_ezkls_calibrated_size():
    from vcp_toolkit.bench.estimate import estimate
    from vcp_toolkit.bench.narrowed import narrowed
    from vcp_toolkit.model.builtin.graphs import builtin_graph

    e = estimate(narrowed(builtin_graph("lenet"), 0.25), batch_sizes=(2,), zk=True)
    assert e.zk.logrows == 18 and e.zk.instances == 28 * 28 + 10 and e.zk.rows == 171_449
    assert e.zk.prove_s > 1 and e.zk.registry_gas > e.zk.verifier_gas


def test_predictions_outside_the_measured_sizes_or_the_memory_say_so():
    from vcp_toolkit.bench.estimate import zk_notes

    calibration = Calibration("2026-12-07", "x86_64, 2 cores", "23.0.5", tuple(_point(k, 74) for k in (15, 17, 19)))
    model = ZkModel.fit(calibration.points)
    assert zk_notes(model.predict(17, 1, 74), calibration) == ()
    far = zk_notes(model.predict(27, 1, 74), calibration)  # 2**27 rows: ~1.3 TB by the law above
    assert "outside the measured logrows 15-19" in far[0] and "extrapolates" in far[0]
    assert "the prover would need about" in far[1]
    import dataclasses

    too_big = dataclasses.replace(model.predict(17, 1, 74), verifier_bytes=30_000.0)
    assert zk_notes(too_big, calibration) == ("zk: EZKL's verifier would be about 30,000 bytes, over EIP-170's 24,576: "
                                              "it could not be deployed as one contract",)
