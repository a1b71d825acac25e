"""The alert review page (``alpr serve``): server-rendered HTML over ``pipelines.alerts``."""

from __future__ import annotations

from web.app import create_app

__all__ = ["create_app"]
