"""Entry points the CLI uses; the implementation lives in the `http` package."""

from .http import HttpSettings, UnsafeBind, build_app, check_bind, run_http

__all__ = ["HttpSettings", "UnsafeBind", "build_app", "check_bind", "run_http"]
