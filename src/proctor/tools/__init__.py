"""Tools: the registry of what agents may call, with each tool's effect and labels."""

from __future__ import annotations

from proctor.tools.registry import Tools

__all__ = ["Tools"]
