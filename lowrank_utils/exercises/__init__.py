"""Self-checking exercises, one module per chapter (``ch1`` ...), sharing ``core``.

In a notebook: ``from lowrank_utils.exercises import ch1`` then ``ch1.check_rank(answer)``.
"""
from .core import Feedback, checker

__all__ = ["Feedback", "checker"]
