"""What publishing one result's data costs, per model (the data-availability rows of `vcp bench`).

- HTTP or directory store: the bundle's objects and bytes; no gas (the store's operator pays disk).
- Calldata (DataAnchor): the same bundle in one transaction, its gas and signed bytes (priced per
  chain in the report).
- Blobs (BlobAnchor, EIP-4844): the same bundle in the blobs of one type-3 transaction on Anvil
  (Cancun or later): blobs, blob gas (131,072 a blob) and the anchor call's gas; priced in the
  report at the fee parameters' blob base fee. A run without such a chain says so per row
  ("not supported on this chain"): py-evm via eth-tester and Ganache carry no blobs.
- Forced reveal, the fallback when a prover publishes nowhere: measured elsewhere in the same run
  (the schedules rows for dense models, the CNN dispute rows for CNNs) and shown beside these.

A dense model's bundle is what the prover service publishes (both openings and the trace tree,
vcp_toolkit.ops.da_objects.bundle_blobs); a CNN's is its trace's tensors in tiles, as `revealTrace`
takes them (GraphTraceCommitment.reveal_payload), since that is what a challenger needs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vcp_toolkit.chain.anchor import DataAnchor
from vcp_toolkit.chain.nodes import Chain
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.ops.calldata_store import CalldataStore

SALT = b"\x5a" * 32
MAX_BYTES = 1 << 20


def dense_bundle(widths: tuple[int, ...]) -> list[bytes]:
    from vcp_toolkit.bench.runner import model_for
    from vcp_toolkit.model.synthetic import random_inputs
    from vcp_toolkit.ops.da_objects import bundle_blobs

    model = model_for(widths)
    x = random_inputs(model, 1, seed=3)
    return bundle_blobs([v[0] for v in model.trace(x)], SALT, SALT)


def cnn_bundle(name: str) -> list[bytes]:
    from vcp_toolkit.commit.graph_commitments import GraphModelCommitment, GraphTraceCommitment
    from vcp_toolkit.model.builtin.graphs import builtin_graph
    from vcp_toolkit.model.datasets import load_mnist_split

    graph = builtin_graph(name)
    image = graph.quantize_input(load_mnist_split().x_test[:1])
    trace = [t[0] for t in graph.run(np.asarray(image)).trace.values()]
    return GraphTraceCommitment.of(trace, GraphModelCommitment(graph).shapes).reveal_payload()


def da_rows(chain: Chain, dense: tuple[tuple[int, ...], ...], cnns: tuple[str, ...],
            blob_chain: Chain | None = None) -> list[dict[str, Any]]:
    """One row per model: the bundle's size and what publishing it in calldata cost on ``chain``,
    and in blobs on ``blob_chain`` (each row's "blob" says why not where it has no blobs)."""
    sender = Sender(chain)
    sender.ensure_funded()
    anchor, _ = DataAnchor.deploy(sender)
    store = CalldataStore(anchor, sender, max_bytes=MAX_BYTES)
    bundles = [("->".join(map(str, w)), "dense", dense_bundle(w)) for w in dense]
    bundles += [(name, "cnn", cnn_bundle(name)) for name in cnns]
    rows = []
    for name, kind, items in bundles:
        digests = store.put_many(items)
        store.get(digests[-1])  # published means fetchable: found by its digest and checked
        tx = store.last_tx
        rows.append({"model": name, "kind": kind, "objects": len(items), "bytes": sum(map(len, items)),
                     "calldata_gas": tx.gas_used, "calldata_bytes": len(tx.calldata), "raw": "0x" + tx.raw.hex(),
                     "chain": chain.kind, "hardfork": str(chain.hardfork)})
    blobs = blob_costs(blob_chain, [items for _, _, items in bundles])
    return [{**row, "blob": blob} for row, blob in zip(rows, blobs)]


def blob_costs(chain: Chain | None, bundles: list[list[bytes]]) -> list[dict[str, Any]]:
    """Each bundle published in the blobs of one transaction on ``chain`` and fetched back: blobs,
    blob gas, the anchor call's gas, the blob base fee paid. ``{"supported": False, "why": ...}``
    for every bundle when ``chain`` is None or has no blobs, or for one that needs too many blobs."""
    from vcp_toolkit.chain.blob_anchor import BlobAnchor, require_blobs
    from vcp_toolkit.chain.blob_encoding import GAS_PER_BLOB, MAX_BLOBS_PER_TX, blobs_needed
    from vcp_toolkit.errors import BlobsUnsupported
    from vcp_toolkit.ops.eip4844_store import Eip4844Store

    try:
        if chain is None:
            raise BlobsUnsupported("this run has no chain with blobs (the embedded chain's py-evm keeps none; "
                                   "blobs are measured on Anvil, Cancun or later)")
        require_blobs(chain)
    except BlobsUnsupported as exc:
        return [{"supported": False, "why": f"not supported on this chain: {exc}"} for _ in bundles]
    sender = Sender(chain)
    sender.ensure_funded()
    anchor, _ = BlobAnchor.deploy(sender)
    store = Eip4844Store(anchor, sender)
    out = []
    for items in bundles:
        needed = blobs_needed([len(i) for i in items])
        if needed > MAX_BLOBS_PER_TX:
            out.append({"supported": False, "why": f"needs {needed} blobs: one transaction carries {MAX_BLOBS_PER_TX}"})
            continue
        digests = store.put_many(items)
        store.get(digests[-1])  # published means fetchable: its blobs found, checked, decoded
        tx = store.last_tx
        out.append({"supported": True, "blobs": tx.blob_gas_used // GAS_PER_BLOB, "blob_gas": tx.blob_gas_used,
                    "gas": tx.gas_used, "blob_gas_price": tx.blob_gas_price, "chain": chain.kind,
                    "hardfork": str(chain.hardfork)})
    return out


def reveal_gas_by_model(result: dict[str, Any]) -> dict[str, int]:
    """The forced reveal's gas per model, from the same run: the newest schedule's reveal rows
    (dense models) and the CNN dispute rows."""
    from vcp_toolkit.bench.money import priced_schedule

    out: dict[str, int] = {}
    schedule = priced_schedule(result)
    for row in ((result.get("schedules") or {}).get(schedule) or {}).get("rows", []) if schedule else []:
        if row.get("mode") == "optimistic_reveal":
            out[row["model"]] = sum(tx["gas"] for tx in row["txs"] if tx["name"] == "reveal trace")
    for name, model in ((result.get("cnn_disputes") or {}).get("models") or {}).items():
        out[name] = model["reveal"]["gas"]
    return out
