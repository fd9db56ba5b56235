"""Items in EIP-4844 blobs: the layout BlobAnchor binds (contracts/src/BlobLayout.sol mirrors
``layout``) and the checks a reader makes (docs/encoding.md, "Blobs").

A blob is 4096 field elements of 32 bytes, each below the BLS12-381 modulus. vcp keeps the top
byte of every element zero and carries 31 bytes in the rest, so any bytes fit. The items of one
transaction are packed one after another from element 0 of blob 0, each as

    header element: 0x00 || size (8 bytes, big-endian) || 23 zero bytes
    data elements:  0x00 || 31 bytes of the item, the last one zero-padded

and an item may run on from one blob into the next. Everything after the last item is zero.
The versioned hash of a blob is 0x01 || sha256(KZG commitment)[1:] (EIP-4844); the commitment is
computed with ckzg over the trusted setup eth-account ships.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import ckzg

from vcp_toolkit.errors import InvalidInput

ELEMENTS_PER_BLOB = 4096
BYTES_PER_ELEMENT = 32
DATA_PER_ELEMENT = 31  # the top byte stays zero: every element is below the BLS modulus
BYTES_PER_BLOB = ELEMENTS_PER_BLOB * BYTES_PER_ELEMENT  # 131,072
DATA_PER_BLOB = ELEMENTS_PER_BLOB * DATA_PER_ELEMENT  # 126,976 bytes of items, headers included
GAS_PER_BLOB = 2**17  # EIP-4844: blob gas is charged per blob, whatever it holds
SIZE_BYTES = 8
VERSIONED_HASH_VERSION_KZG = b"\x01"
# Osaka (EIP-7594) caps a transaction at 6 blobs and Cancun's block held 6; Prague's block holds 9,
# but the one limit that holds on every schedule since Cancun is 6.
MAX_BLOBS_PER_TX = 6


@dataclass(frozen=True)
class Placement:
    """Where one item lies: blobs ``first_blob``..``last_blob`` of its transaction, starting at
    element ``offset`` of the first (its header), ``size`` bytes long."""

    first_blob: int
    last_blob: int
    offset: int
    size: int

    @property
    def blobs(self) -> int:
        return self.last_blob - self.first_blob + 1


def elements(size: int) -> int:
    """Field elements an item of ``size`` bytes takes: its header and its data."""
    return 1 + -(-size // DATA_PER_ELEMENT)


def layout(sizes: list[int]) -> list[Placement]:
    """Each item's place when packed one after another from element 0 (BlobLayout.place)."""
    placements, start = [], 0
    for size in sizes:
        if size <= 0 or size >= 2**64:
            raise InvalidInput(f"a blob item is 1 to 2**64 - 1 bytes long, not {size}")
        end = start + elements(size)
        placements.append(Placement(start // ELEMENTS_PER_BLOB, (end - 1) // ELEMENTS_PER_BLOB,
                                    start % ELEMENTS_PER_BLOB, size))
        start = end
    return placements


def blobs_needed(sizes: list[int]) -> int:
    return layout(sizes)[-1].last_blob + 1 if sizes else 0


def _chunks(item: bytes) -> bytes:
    """The item's elements: its header, then 31 bytes per element behind a zero byte."""
    header = b"\x00" + len(item).to_bytes(SIZE_BYTES, "big") + bytes(BYTES_PER_ELEMENT - 1 - SIZE_BYTES)
    padded = item + bytes(-len(item) % DATA_PER_ELEMENT)
    return header + b"".join(b"\x00" + padded[i:i + DATA_PER_ELEMENT] for i in range(0, len(padded), DATA_PER_ELEMENT))


def encode(items: list[bytes]) -> list[bytes]:
    """The blobs carrying ``items`` in order (each BYTES_PER_BLOB long)."""
    layout([len(i) for i in items])  # refuses empty items
    stream = b"".join(_chunks(bytes(i)) for i in items)
    stream += bytes(-len(stream) % BYTES_PER_BLOB)
    return [stream[i:i + BYTES_PER_BLOB] for i in range(0, len(stream), BYTES_PER_BLOB)]


def _element(blobs: list[bytes], index: int) -> bytes:
    blob, at = divmod(index, ELEMENTS_PER_BLOB)
    if blob >= len(blobs):
        raise InvalidInput(f"the item runs past the end of its {len(blobs)} blob(s): truncated")
    element = blobs[blob][at * BYTES_PER_ELEMENT:(at + 1) * BYTES_PER_ELEMENT]
    if element[0] != 0:
        raise InvalidInput(f"field element {index} has a non-zero top byte: not vcp's blob encoding")
    return element


def decode(blobs: list[bytes], offset: int, size: int) -> bytes:
    """The item whose header is element ``offset`` of ``blobs[0]`` (the blobs it spans, in order),
    checked: its header names ``size`` (what the event claimed), it fits in these blobs, and every
    unused byte is zero. Anything else raises InvalidInput."""
    if any(len(b) != BYTES_PER_BLOB for b in blobs):
        raise InvalidInput(f"a blob is {BYTES_PER_BLOB:,} bytes long")
    header = _element(blobs, offset)
    declared = int.from_bytes(header[1:1 + SIZE_BYTES], "big")
    if any(header[1 + SIZE_BYTES:]):
        raise InvalidInput("the item's header has non-zero reserved bytes: not vcp's blob encoding")
    if declared != size:
        raise InvalidInput(f"the item's header declares {declared:,} bytes, the publisher claimed {size:,}")
    count = elements(size) - 1
    data = b"".join(_element(blobs, offset + 1 + i)[1:] for i in range(count))
    if any(data[size:]):
        raise InvalidInput("the item's padding is not zero")
    return data[:size]


@lru_cache(maxsize=1)
def _trusted_setup() -> object:
    # The Ethereum KZG ceremony's setup, as eth-account ships it for signing blob transactions.
    setup = resources.files("eth_account.typed_transactions.blob_transactions") / "kzg_trusted_setup.txt"
    with resources.as_file(setup) as path:
        return ckzg.load_trusted_setup(str(path), 0)


def commitment(blob: bytes) -> bytes:
    """The blob's KZG commitment (48 bytes); InvalidInput for a blob with an element over the modulus."""
    try:
        return bytes(ckzg.blob_to_kzg_commitment(bytes(blob), _trusted_setup()))
    except Exception as exc:  # noqa: BLE001 - ckzg raises RuntimeError/ValueError for a malformed blob
        raise InvalidInput(f"not a valid blob: {exc}") from exc


def cell_proofs(blob: bytes) -> list[bytes]:
    """The blob's 128 cell proofs (EIP-7594): what a type-3 transaction's network wrapper carries."""
    try:
        return [bytes(p) for p in ckzg.compute_cells_and_kzg_proofs(bytes(blob), _trusted_setup())[1]]
    except Exception as exc:  # noqa: BLE001 - ckzg raises RuntimeError/ValueError for a malformed blob
        raise InvalidInput(f"not a valid blob: {exc}") from exc


def versioned_hash(blob: bytes) -> bytes:
    """EIP-4844's kzg_to_versioned_hash(blob_to_kzg_commitment(blob))."""
    return VERSIONED_HASH_VERSION_KZG + hashlib.sha256(commitment(blob)).digest()[1:]
