"""The web console under /ui: sign in, approvals, drafts, the library and the dashboards."""

from .app import build_console
from .links import PREFIX

__all__ = ["PREFIX", "build_console"]
