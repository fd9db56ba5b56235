"""FastLZ level 1, as the OP Stack prices it (Fjord L1 data fee).

``compressed_length`` is the consensus figure: the output size of the FastLZ variant in Solady's
``LibZip.flzCompress``, which op-geth mirrors in ``FlzCompressLen`` (core/types/rollup_cost.go).
It counts bytes without producing them. ``compress`` and ``decompress`` are a separately written
byte-level encoder and the standard level-1 decoder: the tests check that the encoder's output
decodes back to the input and that its length equals ``compressed_length``.

Format (level 1): a literal run is a control byte ``n - 1`` (n <= 32) then n bytes; a match of
length m >= 3 at distance d (1..8191) is two bytes ``(m - 2) << 5 | (d - 1) >> 8, (d - 1) & 255``
when m <= 8, else three bytes ``7 << 5 | (d - 1) >> 8, m - 9, (d - 1) & 255``; matches longer than
262 are split into 262-byte pieces.
"""

from __future__ import annotations

HASH_LOG = 13
HASH_SIZE = 1 << HASH_LOG
MAX_DISTANCE = 8191
MAX_LITERAL_RUN = 32
MAX_MATCH_PIECE = 262  # longest match one 3-byte token encodes (len byte 253 + 9)
TAIL = 13  # the last bytes are never searched for matches (op-geth's ipLimit = len - 13)


def _hash(v: int) -> int:
    # Fibonacci hashing of 3 bytes into 13 bits, in 32-bit arithmetic like the reference.
    return ((2654435769 * v) & 0xFFFFFFFF) >> (32 - HASH_LOG)


def _u24(data: bytes, i: int) -> int:
    return data[i] | data[i + 1] << 8 | data[i + 2] << 16


def _literal_cost(run: int) -> int:
    full, rest = divmod(run, MAX_LITERAL_RUN)
    return full * (MAX_LITERAL_RUN + 1) + (rest + 1 if rest else 0)


def _match_cost(code: int) -> int:
    # `code` is the match length minus 2, as the length scan returns it.
    pieces, rest = divmod(code - 1, MAX_MATCH_PIECE)
    return 3 * pieces + (3 if rest >= 6 else 2)


def _find_match(data: bytes, table: list[int], ip: int, limit: int) -> tuple[int, int]:
    """Scan from ip for a 3-byte repeat within range; return (position, reference) or (limit, -1)."""
    while ip < limit:
        seq = _u24(data, ip)
        slot = _hash(seq)
        ref = table[slot]
        table[slot] = ip
        # A repeat found at the last scanned position is dropped, as in the reference loop.
        if ip - ref <= MAX_DISTANCE and _u24(data, ref) == seq and ip + 1 < limit:
            return ip, ref
        ip += 1
    return limit, -1


def _match_code(data: bytes, ref: int, ip: int, limit: int) -> int:
    """Match length minus 2: bytes equal after the first three, plus one, capped at the scan end."""
    end = limit + 9 - (ip + 3)
    n = 0
    while n < end:
        if data[ref + 3 + n] != data[ip + 3 + n]:
            return n + 1
        n += 1
    return end


def _tokens(data: bytes):
    """The reference parse: yields ("lit", start, stop) and ("match", distance, code)."""
    table = [0] * HASH_SIZE
    limit = max(len(data) - TAIL, 0)
    anchor, ip = 0, 2
    while ip < limit:
        ip, ref = _find_match(data, table, ip, limit)
        if ref < 0:
            break
        if ip > anchor:
            yield "lit", anchor, ip
        code = _match_code(data, ref, ip, limit)
        yield "match", ip - ref, code
        ip += code
        table[_hash(_u24(data, ip))] = ip  # the two positions after a match seed the table
        table[_hash(_u24(data, ip + 1))] = ip + 1
        ip += 2
        anchor = ip
    if len(data) > anchor:
        yield "lit", anchor, len(data)


def compressed_length(data: bytes) -> int:
    """Bytes FastLZ (Solady/op-geth variant) produces for data: the Fjord ``fastlzSize``."""
    total = 0
    for kind, a, b in _tokens(bytes(data)):
        total += _literal_cost(b - a) if kind == "lit" else _match_cost(b)
    return total


def _emit_literals(out: bytearray, chunk: bytes) -> None:
    for start in range(0, len(chunk), MAX_LITERAL_RUN):
        piece = chunk[start:start + MAX_LITERAL_RUN]
        out.append(len(piece) - 1)
        out += piece


def _emit_match(out: bytearray, distance: int, length: int) -> None:
    offset = distance - 1
    high, low = offset >> 8, offset & 0xFF
    while length > MAX_MATCH_PIECE:
        out += bytes((0xE0 | high, MAX_MATCH_PIECE - 9, low))
        length -= MAX_MATCH_PIECE
    if length <= 8:
        out += bytes(((length - 2) << 5 | high, low))
    else:
        out += bytes((0xE0 | high, length - 9, low))


def compress(data: bytes) -> bytes:
    """FastLZ level-1 stream of data, byte for byte what Solady's flzCompress emits."""
    data = bytes(data)
    out = bytearray()
    for kind, a, b in _tokens(data):
        if kind == "lit":
            _emit_literals(out, data[a:b])
        else:
            _emit_match(out, a, b + 2)
    return bytes(out)


def decompress(stream: bytes) -> bytes:
    """Standard FastLZ level-1 decoder (raises ValueError on a malformed stream)."""
    out = bytearray()
    ip = 0
    while ip < len(stream):
        ctrl = stream[ip] & (0x1F if ip == 0 else 0xFF)  # first byte's top bits carry the level
        ip += 1
        if ctrl < 32:
            if ip + ctrl + 1 > len(stream):
                raise ValueError("FastLZ literal run past the end of the stream")
            out += stream[ip:ip + ctrl + 1]
            ip += ctrl + 1
            continue
        ip = _copy_match(stream, ip, ctrl, out)
    return bytes(out)


def _copy_match(stream: bytes, ip: int, ctrl: int, out: bytearray) -> int:
    length = ctrl >> 5
    if length == 7:
        length += stream[ip]
        ip += 1
    if ip >= len(stream):
        raise ValueError("FastLZ match token truncated")
    ref = len(out) - ((ctrl & 0x1F) << 8) - stream[ip] - 1
    ip += 1
    if ref < 0:
        raise ValueError("FastLZ match refers before the start of the output")
    for k in range(length + 2):  # byte by byte: a match may overlap what it produces
        out.append(out[ref + k])
    return ip
