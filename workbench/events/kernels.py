"""Compiled loops over event times (int64 nanoseconds), one pass per batch.

numba compiles these on first use and caches the machine code on disk.
:mod:`workbench.runtime.kernels` contains the loops of window aggregation.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Null event time (NaT): int64 min.
NULL_TIME = np.iinfo(np.int64).min


#: Below this quotient, a float estimate is off by at most two from the true quotient.
_ESTIMATE_LIMIT = 2.0**51


@njit(cache=True, nogil=True, inline="always")
def floor_divide(value: int, divisor: int) -> int:
    """Return ``value // divisor`` (rounded towards minus infinity) for a positive divisor.

    A 64-bit integer division is slow on common processors, so the loop
    divides in floating point and corrects the estimate by a step or two.
    Quotients too large for an exact estimate take the integer division.
    """
    estimate = np.float64(value) / np.float64(divisor)
    if abs(estimate) >= _ESTIMATE_LIMIT:
        return value // divisor
    quotient = int(estimate)
    remainder = value - quotient * divisor
    while remainder < 0:
        quotient -= 1
        remainder += divisor
    while remainder >= divisor:
        quotient += 1
        remainder -= divisor
    return quotient


def has_unaligned(times: np.ndarray, step: int) -> bool:
    """Return whether a non-null time is not a multiple of ``step`` (a positive step)."""
    if step == 1:
        return False
    # step = odd * 2**shift. A multiple of an odd number times its inverse
    # modulo 2**64 is at most (2**64 - 1) // odd, and any other number is
    # above that, so the test needs a multiplication, not a division.
    shift = (step & -step).bit_length() - 1
    odd = step >> shift
    inverse = pow(odd, -1, 1 << 64)
    return bool(
        _has_unaligned(
            np.ascontiguousarray(times, dtype=np.int64),
            shift,
            np.uint64(inverse),
            np.uint64(((1 << 64) - 1) // odd),
        )
    )


@njit(cache=True, nogil=True)
def _has_unaligned(times: np.ndarray, shift: int, inverse: np.uint64, limit: np.uint64) -> bool:
    low_bits = np.uint64((1 << shift) - 1)
    found = False
    # No early exit and no branches, so the loop vectorizes.
    for i in range(times.shape[0]):
        value = times[i]
        magnitude = np.uint64(abs(value))
        unaligned = ((magnitude & low_bits) != 0) | (
            (magnitude >> np.uint64(shift)) * inverse > limit
        )
        found |= unaligned & (value != NULL_TIME)
    return found


@njit(cache=True, nogil=True)
def running_max(times: np.ndarray, carry: int, out: np.ndarray) -> int:
    """Set ``out[i]`` to the largest of ``carry`` and ``times[: i + 1]``; return the last.

    A null is int64 min, so it does not raise the maximum.
    """
    latest = carry
    for i in range(times.shape[0]):
        latest = max(latest, times[i])
        out[i] = latest
    return latest
