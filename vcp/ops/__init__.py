"""Durable state around the chain: the journal, the idempotent submitter, the exchange where
inputs and traces are published, and service state files."""

from vcp._exports import lazy_exports

_PUBLIC = {
    "Exchange": "vcp.ops.exchange",
    "Journal": "vcp.ops.journal",
    "journal_file": "vcp.ops.landing", "prove_and_land": "vcp.ops.landing", "prove_range": "vcp.ops.landing",
    "StateFile": "vcp.ops.state",
    "Submitter": "vcp.ops.submitter",
}
__all__ = ["Exchange", "Journal", "StateFile", "Submitter", "journal_file", "prove_and_land", "prove_range"]
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
