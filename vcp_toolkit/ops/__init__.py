"""Durable state around the chain: the journal, the idempotent submitter, the exchange where
inputs and traces are published, and service state files."""

from vcp_toolkit._exports import lazy_exports

_PUBLIC = {
    "Exchange": "vcp_toolkit.ops.exchange",
    "Journal": "vcp_toolkit.ops.journal",
    "journal_file": "vcp_toolkit.ops.landing", "prove_and_land": "vcp_toolkit.ops.landing", "prove_range": "vcp_toolkit.ops.landing",
    "StateFile": "vcp_toolkit.ops.state",
    "Submitter": "vcp_toolkit.ops.submitter",
}
__all__ = ["Exchange", "Journal", "StateFile", "Submitter", "journal_file", "prove_and_land", "prove_range"]
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
