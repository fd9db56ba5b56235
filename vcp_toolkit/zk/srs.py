"""The structured reference string. Without one given, it is GENERATED LOCALLY (``ezkl.gen_srs``):
fine for measuring, UNSAFE for production, where whoever ran the generation could forge proofs."""

from __future__ import annotations

from pathlib import Path

from vcp_toolkit.zk.backend import require_ezkl
from vcp_toolkit.zk.cache import cache_root

UNSAFE_SRS_NOTE = ("UNSAFE: generated locally by ezkl.gen_srs for measurement; whoever generates an SRS can forge "
                   "proofs. Use a public ceremony's SRS in production (--srs).")


def local_srs(logrows: int) -> Path:
    """The cached locally generated SRS for ``logrows`` (generated, with its warning, if missing)."""
    srs = cache_root() / "srs" / f"kzg{logrows}.srs"
    if not srs.exists():
        srs.parent.mkdir(parents=True, exist_ok=True)
        require_ezkl().gen_srs(str(srs), logrows)
        (srs.parent / "UNSAFE-LOCAL-SRS.txt").write_text(UNSAFE_SRS_NOTE + "\n")
    return srs
