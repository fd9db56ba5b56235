"""Items in EIP-4844 blobs (vcp_toolkit.chain.blob_encoding): the layout against the shared vectors
(BlobAnchor checks the same ones on Anvil, tests/chain/test_blob_anchor.py), round trips at the
edges, and every malformed encoding refused."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

import pytest

from vcp_toolkit.chain import blob_encoding as enc
from vcp_toolkit.errors import InvalidInput

VECTORS = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "blob_layout.json").read_text())
MAX_ONE_TX = enc.MAX_BLOBS_PER_TX * enc.ELEMENTS_PER_BLOB * 31 - 31  # one item filling six blobs


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_layout_matches_the_shared_vectors(case):
    placements = enc.layout(case["sizes"])
    assert [[p.first_blob, p.last_blob, p.offset] for p in placements] == case["placements"]
    assert enc.blobs_needed(case["sizes"]) == case["blobs"] == len(enc.encode([b"\x07" * s for s in case["sizes"]]))


def test_constants_are_eip4844s():
    assert VECTORS["elements_per_blob"] == enc.ELEMENTS_PER_BLOB == 4096
    assert VECTORS["bytes_per_element"] == enc.DATA_PER_ELEMENT == 31
    assert enc.BYTES_PER_BLOB == 131_072 and enc.GAS_PER_BLOB == 131_072


def test_the_zero_blob_has_the_known_versioned_hash():
    # The zero blob commits to the point at infinity (0xc0 then 47 zero bytes).
    zero = bytes(enc.BYTES_PER_BLOB)
    assert enc.commitment(zero) == b"\xc0" + bytes(47)
    assert enc.versioned_hash(zero) == b"\x01" + hashlib.sha256(b"\xc0" + bytes(47)).digest()[1:]
    assert enc.versioned_hash(zero).hex() == "010657f37554c781402a22917dee2f75def7ab966d7b770905398eba3c444014"


@pytest.mark.parametrize("size", [1, 30, 31, 32, 62, 31 * 4095, 31 * 4095 + 1, 31 * 4096, MAX_ONE_TX])
def test_round_trip_at_the_edges(size):
    item = secrets.token_bytes(size)
    blobs = enc.encode([item])
    (place,) = enc.layout([size])
    assert len(blobs) == place.blobs and all(len(b) == enc.BYTES_PER_BLOB for b in blobs)
    assert all(b[i] == 0 for b in blobs for i in range(0, enc.BYTES_PER_BLOB, 32))  # every element < the modulus
    assert enc.decode(blobs, place.offset, size) == item


def test_many_items_share_blobs_and_come_back_in_place():
    items = [secrets.token_bytes(n) for n in (5, 31, 200_000, 1, 4_000, 77)]
    blobs = enc.encode(items)
    for item, place in zip(items, enc.layout([len(i) for i in items])):
        assert enc.decode(blobs[place.first_blob:place.last_blob + 1], place.offset, len(item)) == item


def test_the_unused_rest_is_zero():
    blobs = enc.encode([b"\xff" * 40])
    assert blobs[0][:32] == b"\x00" + (40).to_bytes(8, "big") + bytes(23)
    assert blobs[0][32:64] == b"\x00" + b"\xff" * 31 and blobs[0][64:96] == b"\x00" + b"\xff" * 9 + bytes(22)
    assert not any(blobs[0][96:])


def test_empty_and_oversized_items_are_refused():
    with pytest.raises(InvalidInput):
        enc.encode([b"x", b""])
    with pytest.raises(InvalidInput):
        enc.layout([2**64])


def test_a_header_that_disagrees_with_the_claim_is_refused():
    blobs = enc.encode([b"abc" * 20])
    with pytest.raises(InvalidInput, match="declares 60 bytes, the publisher claimed 59"):
        enc.decode(blobs, 0, 59)
    with pytest.raises(InvalidInput, match="claimed 61"):
        enc.decode(blobs, 0, 61)


def test_a_length_running_past_the_blobs_is_refused():
    """A header declaring more bytes than the carried blobs hold (a truncated item)."""
    blob = bytearray(enc.BYTES_PER_BLOB)
    blob[1:9] = (31 * 4096).to_bytes(8, "big")  # needs 4097 elements: one blob has 4096
    with pytest.raises(InvalidInput, match="truncated"):
        enc.decode([bytes(blob)], 0, 31 * 4096)


@pytest.mark.parametrize("where, why", [(0, "top byte"), (8, "declares 41"), (9, "reserved"), (80, "padding"),
                                        (64, "top byte")])
def test_tampered_bytes_are_refused(where, why):
    blob = bytearray(enc.encode([b"z" * 40])[0])
    blob[where] ^= 0x01
    with pytest.raises(InvalidInput, match=why):
        enc.decode([bytes(blob)], 0, 40)


def test_a_blob_over_the_modulus_or_of_the_wrong_length_is_refused():
    with pytest.raises(InvalidInput):
        enc.commitment(b"\xff" * enc.BYTES_PER_BLOB)  # every element above the BLS modulus
    with pytest.raises(InvalidInput, match="131,072"):
        enc.decode([bytes(100)], 0, 1)
