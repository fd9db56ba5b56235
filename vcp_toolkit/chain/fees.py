"""What a transaction costs in money on Ethereum L1, an OP Stack chain and Arbitrum.

Inputs are a transaction's raw signed bytes (what a node receives) and the gas it used. The
formulas, their constants and sources are in docs/fees.md; the fee parameters (base fees,
scalars, ETH price) come from the dated file fee_params.json and can be overridden by name.

- Ethereum L1: ``gas_used * (base_fee + priority_fee)``. The caller passes the gas used under the
  schedule it chose (on Prague and later that already includes the EIP-7623 calldata floor).
- OP Stack, Fjord and later: L2 execution ``gas_used * l2_gas_price`` plus the L1 data fee
  ``max(100e6, -42_585_600 + 836_500 * fastlz_size) * (16 * base_scalar * l1_base_fee +
  blob_scalar * blob_base_fee) // 1e12`` (op-geth NewL1CostFuncFjord).
- Arbitrum Nitro: L2 ``gas_used * l2_base_fee`` plus the poster fee ``price_per_unit * 16 *
  len(brotli(raw, quality=level, lgwin=22))`` (nitro arbos/l1pricing GetPosterInfo).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

import brotli

from vcp_toolkit.chain.fastlz import compressed_length
from vcp_toolkit.chain.fee_params import FeeParams
from vcp_toolkit.errors import InvalidInput

WEI_PER_ETH = 10**18
# A node refuses far smaller transactions (geth's pool: 128 KiB; Osaka's 2**24 gas cap bounds
# calldata near 420 kB); the bound only keeps a hostile input from tying up the pure-Python FastLZ.
MAX_TX_BYTES = 2 * 1024 * 1024
MAX_GAS_USED = 2**64 - 1

# OP Stack Fjord (specs: protocol/fjord/exec-engine.md; op-geth core/types/rollup_cost.go)
FJORD_INTERCEPT = -42_585_600
FJORD_FASTLZ_COEF = 836_500
FJORD_MIN_TX_SIZE = 100  # bytes; compared against the estimate scaled by 1e6
FJORD_SCALE = 1_000_000
FJORD_DIVISOR = 1_000_000_000_000
CALLDATA_BYTE_GAS = 16  # EIP-2028 non-zero byte: the OP calldata weight and Arbitrum's units per byte

# Arbitrum Nitro (arbcompress/compress_common.go WINDOW_SIZE; arbos/l1pricing/l1pricing.go)
ARBITRUM_BROTLI_WINDOW = 22


@dataclass(frozen=True)
class ChainFee:
    """One transaction's fee on one chain: execution and L1 data parts, in wei and in USD."""

    chain: str
    execution_wei: int
    data_wei: int
    compressed_bytes: int | None  # FastLZ size (OP Stack), brotli size (Arbitrum), None on L1
    execution_usd: Decimal
    data_usd: Decimal

    @property
    def total_wei(self) -> int:
        return self.execution_wei + self.data_wei

    @property
    def total_usd(self) -> Decimal:
        return self.execution_usd + self.data_usd


def wei_to_usd(wei: int, eth_usd: Decimal) -> Decimal:
    """Exact conversion (no float): wei / 1e18 * ETH price."""
    with localcontext() as ctx:
        ctx.prec = 100  # every wei of a 256-bit amount survives
        return Decimal(wei) * eth_usd / WEI_PER_ETH


def _checked_tx(raw_tx: bytes) -> bytes:
    if not isinstance(raw_tx, (bytes, bytearray, memoryview)):
        raise InvalidInput(f"raw transaction must be bytes, not {type(raw_tx).__name__}")
    raw = bytes(raw_tx)
    if not raw:
        raise InvalidInput("raw transaction is empty: pass the signed transaction's bytes")
    if len(raw) > MAX_TX_BYTES:
        raise InvalidInput(f"raw transaction of {len(raw)} bytes exceeds {MAX_TX_BYTES}: no node accepts it")
    return raw


def _checked_gas(gas_used: int) -> int:
    if isinstance(gas_used, bool) or not isinstance(gas_used, int) or not 0 <= gas_used <= MAX_GAS_USED:
        raise InvalidInput(f"gas used must be an integer in [0, 2**64), got {gas_used!r}")
    return gas_used


def _fee(chain: str, execution_wei: int, data_wei: int, size: int | None, params: FeeParams) -> ChainFee:
    return ChainFee(chain, execution_wei, data_wei, size,
                    wei_to_usd(execution_wei, params.eth_usd), wei_to_usd(data_wei, params.eth_usd))


# ---------------------------------------------------------------------- Ethereum L1


def ethereum_fee(gas_used: int, params: FeeParams) -> ChainFee:
    """L1 fee of a transaction that used ``gas_used`` (EIP-7623 floor already applied by the caller)."""
    price = params.l1_base_fee_wei + params.l1_priority_fee_wei
    return _fee("ethereum", _checked_gas(gas_used) * price, 0, None, params)


def ethereum_blob_fee(gas_used: int, blob_gas: int, params: FeeParams) -> ChainFee:
    """L1 fee of a type-3 transaction: its gas at the base fee plus tip, and its blob gas (EIP-4844,
    131,072 a blob) at the blob base fee, the data part."""
    price = params.l1_base_fee_wei + params.l1_priority_fee_wei
    return _fee("ethereum", _checked_gas(gas_used) * price, _checked_gas(blob_gas) * params.l1_blob_base_fee_wei,
                None, params)


# ---------------------------------------------------------------------- OP Stack


def fjord_estimated_size(fastlz_size: int) -> int:
    """Fjord's linear-regression size of a transaction, scaled by 1e6, never below 100 bytes."""
    return max(FJORD_MIN_TX_SIZE * FJORD_SCALE, FJORD_INTERCEPT + FJORD_FASTLZ_COEF * fastlz_size)


def fjord_l1_fee(fastlz_size: int, l1_base_fee: int, blob_base_fee: int, base_fee_scalar: int,
                 blob_base_fee_scalar: int) -> int:
    """The Fjord L1 data fee in wei, with op-geth's integer arithmetic (one floor division, last)."""
    l1_fee_scaled = base_fee_scalar * l1_base_fee * CALLDATA_BYTE_GAS + blob_base_fee_scalar * blob_base_fee
    return fjord_estimated_size(fastlz_size) * l1_fee_scaled // FJORD_DIVISOR


def op_stack_fee(raw_tx: bytes, gas_used: int, params: FeeParams) -> ChainFee:
    """OP Stack (Fjord and later) fee: L2 execution plus the L1 data fee of the signed bytes."""
    size = compressed_length(_checked_tx(raw_tx))
    data = fjord_l1_fee(size, params.l1_base_fee_wei, params.l1_blob_base_fee_wei,
                        params.op_base_fee_scalar, params.op_blob_base_fee_scalar)
    return _fee("op-stack", _checked_gas(gas_used) * params.op_l2_gas_price_wei, data, size, params)


# ---------------------------------------------------------------------- Arbitrum


def brotli_size(raw_tx: bytes, level: int) -> int:
    """Length of the transaction brotli-compressed as Nitro does (quality ``level``, window 22)."""
    return len(brotli.compress(_checked_tx(raw_tx), mode=brotli.MODE_GENERIC, quality=level,
                               lgwin=ARBITRUM_BROTLI_WINDOW))


def arbitrum_poster_units(raw_tx: bytes, level: int) -> int:
    """L1 calldata units Nitro charges for a transaction: 16 per compressed byte."""
    return CALLDATA_BYTE_GAS * brotli_size(raw_tx, level)


def arbitrum_fee(raw_tx: bytes, gas_used: int, params: FeeParams) -> ChainFee:
    """Arbitrum fee: L2 gas at the L2 base fee plus the poster (L1) fee of the signed bytes."""
    size = brotli_size(raw_tx, params.arb_brotli_level)
    data = params.arb_l1_price_per_unit_wei * CALLDATA_BYTE_GAS * size
    return _fee("arbitrum", _checked_gas(gas_used) * params.arb_l2_base_fee_wei, data, size, params)


def all_fees(raw_tx: bytes, gas_used: int, params: FeeParams) -> tuple[ChainFee, ChainFee, ChainFee]:
    """The same transaction on Ethereum L1, an OP Stack chain and Arbitrum, in that order."""
    _checked_tx(raw_tx)
    return ethereum_fee(gas_used, params), op_stack_fee(raw_tx, gas_used, params), \
        arbitrum_fee(raw_tx, gas_used, params)
