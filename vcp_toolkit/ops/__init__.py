"""Durable state around the chain: the journal, the idempotent submitter, the exchange where
inputs and traces are published (over the data-availability stores of ``ops.da``), and service
state files."""

from vcp_toolkit._exports import lazy_exports

_PUBLIC = {
    "Exchange": "vcp_toolkit.ops.exchange",
    "BlobStore": "vcp_toolkit.ops.da", "DataUnavailable": "vcp_toolkit.ops.da", "Stores": "vcp_toolkit.ops.da",
    "open_stores": "vcp_toolkit.ops.da",
    "DirectoryStore": "vcp_toolkit.ops.blobdir", "HttpStore": "vcp_toolkit.ops.http_store",
    "RunningStore": "vcp_toolkit.ops.http_server",
    "Journal": "vcp_toolkit.ops.journal",
    "journal_file": "vcp_toolkit.ops.landing", "prove_and_land": "vcp_toolkit.ops.landing", "prove_range": "vcp_toolkit.ops.landing",
    "StateFile": "vcp_toolkit.ops.state",
    "Submitter": "vcp_toolkit.ops.submitter",
}
__all__ = ["BlobStore", "DataUnavailable", "DirectoryStore", "Exchange", "HttpStore", "Journal", "RunningStore",
           "StateFile", "Stores", "Submitter", "journal_file", "open_stores", "prove_and_land", "prove_range"]
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
