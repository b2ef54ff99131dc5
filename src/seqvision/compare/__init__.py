"""``seqvision compare``: the same encoder and head with each sequence model, equal budgets, several seeds."""

from seqvision.compare.study import Study, remeasure, run_study
from seqvision.compare.suites import SUITES, Suite, get_suite

__all__ = ["SUITES", "Study", "Suite", "get_suite", "remeasure", "run_study"]
