"""banditmap: from an e-commerce problem's traits to a ranked, explained shortlist of bandit algorithms."""

from __future__ import annotations

__version__ = "0.1.0"
