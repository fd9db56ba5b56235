"""docs/estimate.md's calibration table is the committed calibration, row for row: it cannot go stale."""

from __future__ import annotations

from pathlib import Path

from vcp_toolkit.bench.zk_calibration import load_calibration

DOC = Path(__file__).resolve().parents[2] / "docs" / "estimate.md"


def calibration_rows() -> list[str]:
    """The Markdown rows, one per measured point."""
    calibration = load_calibration()
    rows = []
    for p in calibration.points:
        rows.append(f"| {p.circuit} | {p.kind} | {p.logrows} | {p.rows:,} | {p.instances} | {p.setup_s:.1f} s | {p.prove_s:.1f} s "
                    f"| {p.peak_rss_mb / 1024:.2f} GiB | {p.pk_bytes / 2**30:.2f} GiB | {p.proof_bytes:,} "
                    f"| {p.verifier_bytes:,} | {p.verifier_gas:,} / {p.registry_gas:,} |")
    return rows


def test_the_calibration_table_is_the_committed_file():
    text = DOC.read_text()
    calibration = load_calibration()
    assert f"run of {calibration.measured_on}: `python -m vcp_toolkit.bench.zk_calibration`" in text
    missing = [row for row in calibration_rows() if row not in text]
    assert not missing, "docs/estimate.md: renew the calibration table:\n" + "\n".join(calibration_rows())
