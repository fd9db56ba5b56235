// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title BlobLayout
/// @notice Where items go in a transaction's blobs: mirrors `layout` in
/// vcp_toolkit/chain/blob_encoding.py (docs/encoding.md, "Blobs"); shared vectors in
/// tests/vectors/blob_layout.json are checked by both sides.
/// @dev A blob is 4096 field elements; an element carries 31 bytes (its top byte stays zero so it
/// is below the BLS12-381 modulus). Items are packed one after another from element 0 of blob 0:
/// a header element (the length) then the data elements. No EVM version beyond Shanghai needed.
library BlobLayout {
    uint256 internal constant ELEMENTS_PER_BLOB = 4096;
    uint256 internal constant BYTES_PER_ELEMENT = 31;

    /// @notice Field elements an item of `size` bytes takes: its header and its data.
    function elements(uint256 size) internal pure returns (uint256) {
        return 1 + (size + BYTES_PER_ELEMENT - 1) / BYTES_PER_ELEMENT;
    }

    /// @notice The item starting at global element `start` with `size` bytes: its first and last
    /// blob, its first element within the first blob, and the element after it (the next item's start).
    function place(uint256 start, uint256 size)
        internal
        pure
        returns (uint256 firstBlob, uint256 lastBlob, uint256 offset, uint256 next)
    {
        next = start + elements(size);
        firstBlob = start / ELEMENTS_PER_BLOB;
        lastBlob = (next - 1) / ELEMENTS_PER_BLOB;
        offset = start % ELEMENTS_PER_BLOB;
    }
}
