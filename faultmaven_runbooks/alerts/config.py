"""Where notifications go and how hard delivery tries: the operator's settings (README, Notifications).

The settings themselves are the `notify` group of the one Settings object (settings.py: the
settings layer sits below every feature); this module names them for the alerts package.
"""

from __future__ import annotations

from ..settings import PAGERDUTY_EVENTS_URL, NotifySettings

__all__ = ["PAGERDUTY_EVENTS_URL", "NotifySettings"]
