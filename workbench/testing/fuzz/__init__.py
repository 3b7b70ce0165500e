"""Fuzzing a user's own rules: the smallest stream that fires one, breaks a property, or tells two apart."""

from workbench.testing.fuzz.options import FuzzOptions
from workbench.testing.fuzz.report import FuzzResult, RuleRun
from workbench.testing.fuzz.search import MODES, Mode, fuzz

__all__ = ["MODES", "FuzzOptions", "FuzzResult", "Mode", "RuleRun", "fuzz"]
