"""One task's flow, in memory: labels of what it read, its sources for provenance (issue 15).

The flow service keeps one :class:`TaskFlow` per live task (rebuilt from the store's sealed
outputs with :meth:`TaskFlow.restore` after a restart); ``proctor replay`` keeps one per trace task.
It is bounded: at most ``max_outputs`` outputs and ``max_bytes`` bytes (UTF-8) of output text are
kept for matching (the oldest are evicted first); the labels' high-water mark keeps everything
the task ever read, evicted or not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from proctor.flow.labels import label_output
from proctor.flow.model import FlowFacts, Labels, Provenance, TaskLabels, Trust
from proctor.flow.provenance import SourceIndex, destination_domains, utf8_size
from proctor.store.base import ToolRecord

__all__ = ["TaskFlow"]


class TaskFlow:
    """One task's flow state: the high-water mark of its labels and its source index."""

    def __init__(
        self,
        purpose: str,
        params: Mapping[str, str],
        *,
        max_outputs: int = 200,
        max_bytes: int = 4 << 20,
        requester: str = "",
        internal: tuple[str, ...] = (),
    ) -> None:
        self.max_outputs = max(0, int(max_outputs))
        #: the organisation's domains (see ``proctor.flow.model.internal_domains``)
        self.internal = internal
        self.max_bytes = max(0, int(max_bytes))
        #: ``requester``: the e-mail address of who asked for the task (``requested_by``), part of
        #: the intent ("send me the summary" goes to them)
        self.index = SourceIndex(purpose, params, requester=requester)
        self._labels = TaskLabels()
        self._untrusted: set[str] = set()

    @property
    def labels(self) -> TaskLabels:
        """The high-water mark of everything the task read (eviction does not lower it)."""
        return self._labels

    def _raise(self, tool: str, labels: Labels) -> None:
        cur = self._labels
        untrusted = labels.trust is Trust.UNTRUSTED
        if untrusted:
            self._untrusted.add(tool)
        self._labels = TaskLabels(
            read_untrusted=cur.read_untrusted or untrusted,
            max_sensitivity=max(cur.max_sensitivity, labels.sensitivity),
            untrusted_sources=tuple(sorted(self._untrusted)),
            outputs=cur.outputs + 1,
        )

    def _keep(self, tool: str, trust: Trust, text: str) -> None:
        if self.max_outputs == 0 or utf8_size(text) > self.max_bytes:
            return  # too large to keep at all: labels are raised, the text is not matched
        self.index.add(tool, trust, text)
        while self.index.outputs > self.max_outputs or self.index.size > self.max_bytes:
            if not self.index.evict_oldest():
                break

    def observe(self, tool: ToolRecord, text: str) -> Labels:
        """Label one output of ``tool``, raise the task's high-water mark, keep it for matching."""
        labels = label_output(tool, text)
        self._raise(str(tool.name), labels)
        self._keep(str(tool.name), labels.trust, text)
        return labels

    def describe_tools(self, tools: Iterable[ToolRecord]) -> None:
        """Register the descriptions of the tools the task can see (its allowed tools), replacing
        those registered before: the model reads them, their server's author wrote them, so a
        value only a description holds traces as untrusted (source ``description:<tool>``). They
        do not raise the task's labels and are not outputs (see ``SourceIndex.set_descriptions``)."""
        self.index.set_descriptions({str(t.name): t.description for t in tools if t.description})

    def restore(self, tool: str, labels: Labels, text: str) -> None:
        """Re-add a stored output whose labels are already known (after a restart)."""
        self._raise(tool, labels)
        self._keep(tool, labels.trust, text)

    def restore_labels(self, labels: TaskLabels) -> None:
        """Start from a stored high-water mark (it may include outputs no longer kept)."""
        cur = self._labels
        self._untrusted.update(labels.untrusted_sources)
        self._labels = TaskLabels(
            read_untrusted=cur.read_untrusted or labels.read_untrusted,
            max_sensitivity=max(cur.max_sensitivity, labels.max_sensitivity),
            untrusted_sources=tuple(sorted(self._untrusted)),
            outputs=max(cur.outputs, labels.outputs),
        )

    def facts(
        self,
        tool: ToolRecord,
        args: Mapping[str, Any],
        history: Iterable[tuple[str, int | Decimal | bool]] = (),
    ) -> FlowFacts:
        """What the flow stage knows about one call: labels, provenance (effects other than
        ``read``), destination domains, and the counters' values (passed in, sorted here)."""
        provenance = self.index.trace(tool, args) if tool.effect != "read" else Provenance()
        return FlowFacts(
            task=self._labels,
            provenance=provenance,
            history=tuple(sorted(history, key=lambda kv: kv[0])),
            destinations=destination_domains(tool, args),
            internal=self.internal,
        )
