// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title IBlobAnchor
/// @notice EIP-4844 data availability: items travel in the blobs of a type-3 transaction, and this
/// contract, called by that transaction, binds each item's keccak256 to the versioned hashes of the
/// blobs that hold it (read with `blobhash`) in an event. A reader finds the event by the digest it
/// already knows, fetches the blobs, checks each against its versioned hash (KZG commitment) and
/// the decoded item against the digest (vcp_toolkit.chain.blob_encoding, docs/encoding.md).
/// @dev WARNING: the contract cannot see blob contents. An event proves only that the transaction
/// carried blobs with these versioned hashes and that its sender claimed they hold an item with this
/// digest and size; whether they do is checked by the reader, who refuses a mismatch. Blobs are
/// pruned by consensus nodes after 4096 epochs (~18 days): the binding lasts, the bytes do not.
interface IBlobAnchor {
    /// @notice One item the caller claims the transaction's blobs hold.
    /// @param digest keccak256 of the item's bytes.
    /// @param size The item's length in bytes (at least 1).
    struct Item {
        bytes32 digest;
        uint64 size;
    }

    /// @notice Emitted once per item, in order.
    /// @param digest keccak256 of the item's bytes, as claimed by the publisher.
    /// @param publisher The caller.
    /// @param index The item's position in the call's `items`.
    /// @param versionedHashes The versioned hashes of the blobs the item spans, first to last.
    /// @param offset The item's first field element (its length header) within the first blob.
    /// @param size The item's length in bytes.
    event BlobPublished(bytes32 indexed digest, address indexed publisher, uint256 index,
        bytes32[] versionedHashes, uint256 offset, uint256 size);

    /// @notice Thrown for a call with no items, or with an empty item (`index`).
    error BlobAnchorNothingToPublish(uint256 index);

    /// @notice Thrown when the items need `needed` blobs and the transaction carries `carried`.
    error BlobAnchorBlobMissing(uint256 needed, uint256 carried);

    /// @notice Binds `items`, laid out one after another in the transaction's blobs, to the blobs'
    /// versioned hashes. Each item takes a header field element then ceil(size / 31) data elements,
    /// and may run on from one blob into the next (BlobLayout).
    /// @dev Open to anyone, like IDataAnchor: a false claim costs its sender the blobs and the call,
    /// and every reader refuses it. Blobs the items do not reach are allowed and ignored.
    function publish(Item[] calldata items) external;
}
