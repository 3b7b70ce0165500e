"""Recognising SQL NULL among the Python values pandas hands out."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def is_null(value: Any) -> bool:
    """Return whether a scalar is NULL: None, pd.NA, NaT, or a float NaN."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)
