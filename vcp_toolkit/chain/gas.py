"""Gas arithmetic for the floor vcp compares against (Shanghai schedule, EIP-2028/2929), and the
calldata floor Prague added (EIP-7623)."""

from __future__ import annotations

TX_BASE = 21_000
CALLDATA_ZERO_BYTE = 4
CALLDATA_NONZERO_BYTE = 16
ECRECOVER = 3_000
NEW_STORAGE_SLOT = 22_100  # 20,000 SSTORE zero -> non-zero + 2,100 cold access


def calldata_gas(data: bytes) -> int:
    zeros = data.count(0)
    return zeros * CALLDATA_ZERO_BYTE + (len(data) - zeros) * CALLDATA_NONZERO_BYTE


FLOOR_PER_TOKEN = 10  # EIP-7623 TOTAL_COST_FLOOR_PER_TOKEN
STANDARD_PER_TOKEN = 4  # EIP-7623 STANDARD_TOKEN_COST: a zero byte is 1 token, a non-zero byte 4


def calldata_tokens(data: bytes) -> int:
    """EIP-7623 tokens: zero bytes + 4 * non-zero bytes (so 4 * tokens is the EIP-2028 charge)."""
    zeros = data.count(0)
    return zeros + 4 * (len(data) - zeros)


def calldata_floor(data: bytes) -> int:
    """The least gas a transaction carrying ``data`` uses on Prague and later (EIP-7623)."""
    return TX_BASE + FLOOR_PER_TOKEN * calldata_tokens(data)


def with_floor(gas_used: int, data: bytes) -> int:
    """What a transaction that used ``gas_used`` before Prague uses from Prague on, execution
    unchanged: EIP-7623 charges the larger of the two (after refunds)."""
    return max(gas_used, calldata_floor(data))


def submit_floor(calldata: bytes) -> int:
    """What any contract recording one verified signed claim must pay for this exact calldata."""
    return TX_BASE + calldata_gas(calldata) + ECRECOVER + NEW_STORAGE_SLOT


def intrinsic_gas(calldata: bytes) -> int:
    return TX_BASE + calldata_gas(calldata)


GAS_MARGIN_PERCENT = 20


def with_margin(estimate: int, cap: int | None = None) -> int:
    """The gas limit vcp signs for a node's estimate: the one margin policy of every sender
    (vcp.chain.tx.Sender). The limit is not what a transaction pays (that is gasUsed); the margin
    covers state that moves between the estimate and the block (a counter, a warm slot gone cold).
    ``cap``: the schedule's most gas per transaction (Osaka: 2**24), which the margin never passes."""
    limit = estimate + estimate * GAS_MARGIN_PERCENT // 100
    return limit if cap is None else max(estimate, min(limit, cap))
