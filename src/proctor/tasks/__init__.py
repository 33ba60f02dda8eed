"""Tasks: one unit of work with a declared intent (start, end, sweep, task tokens).

This is where delegation will narrow a parent task's scope for its children.
"""

from __future__ import annotations

from proctor.tasks.service import TASK_AUDIENCE, StartedTask, Tasks

__all__ = ["TASK_AUDIENCE", "StartedTask", "Tasks"]
