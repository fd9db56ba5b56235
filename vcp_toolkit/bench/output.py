"""Writing benchmark results: JSON (everything) and CSV (one flat line per row)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from vcp_toolkit.attest.files import write_atomic


def flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def to_csv(rows: list[dict[str, Any]]) -> str:
    flat = [flatten(r) for r in rows]
    columns: list[str] = []
    for row in flat:
        columns += [c for c in row if c not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(flat)
    return buffer.getvalue()


def write_results(result: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    json_path, csv_path = out_dir / "bench.json", out_dir / "bench.csv"
    write_atomic(json_path, (json.dumps(result, indent=1, default=str) + "\n").encode())
    rows = result["rows"] + [{"mode": "dispute_by_width", **d} for d in result.get("disputes", [])]
    write_atomic(csv_path, to_csv(rows).encode())
    return json_path, csv_path
