"""The learning loop: patterns and outcome statistics from incidents, dynamic runbooks."""

from .service import LearningService, LearnResult

__all__ = ["LearningService", "LearnResult"]
