"""Kubernetes objects as paas handles them: plain dicts, exactly as the API serves them."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]
