"""Checkers for LZSS (chapter 09): decoding tokens by hand, the blob size, the explorer's smallest good chunk."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from effdl.exercises._common import _missing, _verdict, checker

__all__ = [
    "LZSS_DECODE_TOKENS",
    "check_lzss_blob_size",
    "check_lzss_decode",
    "check_lzss_smallest_chunk",
    "lzss_exercise_input",
]

# (kind, length, offset) of the tokens the reader decodes by hand: S = 1 byte, the symbols are letters
LZSS_DECODE_TOKENS: tuple[tuple[str, ...] | tuple[str, int, int], ...] = (
    ("literal", "a"),
    ("literal", "b"),
    ("match", 5, 2),
    ("literal", "c"),
    ("match", 4, 4),
)


def _decode_by_hand(tokens: Sequence[tuple]) -> tuple[str, str]:
    """(the right decoding, the one a reader gets who copies each match from its source once, without overlap)."""
    out, once = "", ""
    for t in tokens:
        if t[0] == "literal":
            out, once = out + t[1], once + t[1]
        else:
            _, length, offset = t
            for _ in range(length):
                out += out[-offset]
            src = once[len(once) - offset :][:length]
            once += src
    return out, once


@checker
def check_lzss_decode(answer: str | bytes | None, *, tokens: Sequence[tuple] = LZSS_DECODE_TOKENS) -> bool:
    """Exercise: decode an LZSS token list by hand (S = 1: every symbol is one letter). ``tokens``: ``("literal",
    letter)`` or ``("match", length, offset)``. The checker compresses your answer with the codec (greedy parse,
    W = 255) and accepts it when the codec emits exactly these tokens."""
    if _missing(answer):
        return False
    from effdl.hardware import lzss

    text = answer.decode("latin-1") if isinstance(answer, bytes) else str(answer)
    right, once = _decode_by_hand(tokens)
    want = [(t[0], 1, 0) if t[0] == "literal" else (t[0], int(t[1]), int(t[2])) for t in tokens]
    blob = lzss.compress(text.encode("latin-1", "replace"), symbol_size=1, window=255, chunk=4096, backend="reference")
    got = [(t.kind, t.length, t.offset) for t in lzss.parse(blob)]
    if got == want:
        return _verdict(True, f"{text!r}: the codec encodes it as exactly these {len(want)} tokens.", "")
    if text == once:
        hint = (
            "a match copies one symbol at a time, so when its length is larger than its offset it re-reads what it "
            "has just written: (length 5, offset 2) after 'ab' gives 'ababa'."
        )
    elif len(text) != len(right):
        hint = (
            f"the output has {len(right)} symbols ({len(text)} in yours): a literal adds one, a match adds "
            "`length` symbols copied from `offset` symbols back."
        )
    else:
        hint = "the length is right; check each match's source: it starts `offset` symbols before the match."
    return _verdict(False, "", hint)


def lzss_exercise_input() -> bytes:
    """The blob-size exercise's input (:func:`check_lzss_blob_size`): a noisy uint16 staircase, 600 values (1,200
    bytes), and one odd byte."""
    import numpy as np

    rng = np.random.default_rng(9)
    steps = np.repeat(rng.integers(0, 40, 40), rng.integers(5, 25, 40))[:600]
    return np.concatenate([(steps + 1000).astype("<u2").view(np.uint8), np.array([7], np.uint8)]).tobytes()


@checker
def check_lzss_blob_size(
    answer: int | None, *, data: bytes | None = None, symbol_size: int = 2, window: int = 64, chunk: int = 512
) -> bool:
    """Exercise: the size in bytes of the blob of ``data`` (default: the notebook's 1,201-byte staircase) with the
    given S, W and C, computed from its token counts per chunk and the layout in
    :mod:`effdl.hardware.lzss.format`. The checker compresses ``data`` and compares with ``len(blob)``."""
    if _missing(answer):
        return False
    from effdl.hardware import lzss
    from effdl.hardware.lzss.format import chunk_stats

    raw = lzss_exercise_input() if data is None else bytes(data)
    blob = lzss.compress(raw, symbol_size=symbol_size, window=window, chunk=chunk)
    truth = len(blob)
    st = chunk_stats(blob)
    k, tail = len(st["symbols"]), len(raw) % symbol_size
    tokens = st["matches"] + st["literals"]
    hints = {
        truth - 8 * k: f"you left out the two tables: 4 + 4 bytes per chunk ({k} chunks).",
        truth - 4: "you left out the CRC32 at the end (4 bytes).",
        truth - 20: "you left out the 20-byte header.",
        truth - tail: f"you left out the raw tail ({tail} byte(s) that do not fill a symbol).",
        truth - int(st["flag_bytes"].sum()) + int(tokens.sum()): "a flag is one bit, not one byte: ceil(tokens / 8).",
        truth - int(st["flag_bytes"].sum()) + -(-int(tokens.sum()) // 8): "flag bytes are rounded up per chunk.",
        truth - int(st["literals"].sum()) * (symbol_size - 1): f"a literal is S = {symbol_size} bytes, not one.",
        truth + 2 * int(st["matches"].sum()): "a match is 2 bytes (length and offset), whatever S is.",
    }
    hint = hints.get(int(answer), "") if int(answer) != truth else ""
    return _verdict(
        int(answer) == truth,
        f"{truth:,} bytes = 20 (header) + {8 * k} (tables) + {int(st['flag_bytes'].sum())} (flags) + "
        f"{int(st['data_bytes'].sum()):,} (data) + {tail} (tail) + 4 (CRC).",
        f"you said {int(answer):,}. "
        + (
            hint
            or "add: header 20, tables 8 per chunk, flag bytes ceil(tokens/8) per chunk, S bytes per literal, "
            "2 per match, the tail and the CRC (4)."
        ),
    )


@checker
def check_lzss_smallest_chunk(answer: int | None, explorer: Any, *, within: float = 0.01) -> bool:
    """Try it (chapter 09's explorer): with W and S at the explorer's starting values, the smallest chunk size C
    (bytes, one of ``explorer.chunks``) whose ratio is within ``within`` (1%) of the best ratio over all offered C.
    The truth comes from the explorer's own data: ``explorer.start = (W, C, S)`` and ``explorer.ratio(W, C, S)``."""
    if _missing(answer):
        return False
    w, _, s = explorer.start
    ratios = {int(c): float(explorer.ratio(w, c, s)) for c in explorer.chunks}
    best = max(ratios.values())
    floor = (1 - within) * best
    truth = min(c for c, r in ratios.items() if r >= floor)
    c = int(answer)
    good = (
        f"C = {truth:,} bytes: ratio {ratios[truth]:.3f}, within {within:.0%} of the best {best:.3f} (W = {w}, "
        f"S = {s}); every smaller C loses more at its chunk borders."
    )
    if c == truth:
        return _verdict(True, good, "")
    if c not in ratios:
        hint = f"C must be one of the slider's values {sorted(ratios)}; you said {c}."
    elif ratios[c] < floor:
        hint = (
            f"at C = {c:,} the ratio is {ratios[c]:.3f}, more than {within:.0%} below the best ({best:.3f}): keep W "
            f"at {w} and S at {s}, and move C up."
        )
    else:
        hint = (
            f"C = {c:,} is within {within:.0%} (ratio {ratios[c]:.3f}), but a smaller C is too: the question asks for "
            "the smallest, not the best."
        )
    return _verdict(False, good, hint)
