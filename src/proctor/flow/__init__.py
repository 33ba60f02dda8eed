"""Flow (empty seat): labels and provenance of values, and rules over a task's history.

What will live here: the labels a tool's output carries (trust, sensitivity), what a task has read
so far, and the rules that deny a call because of that history (read a customer file, then send
it out). The pipeline's decision stage will consult it next to Cedar policy and task scope.
"""

__all__: list[str] = []
