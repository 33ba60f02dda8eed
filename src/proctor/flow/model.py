"""The values the flow stage hands to the decision: labels, provenance, history (issue 15).

These types are the contract between ``proctor.flow`` (which computes them), ``proctor.policy``
(which turns them into Cedar context and cache keys) and the pipeline, gateway, API, approval page
and ``proctor replay`` (which pass them on and show them). They are plain frozen values: hashable, so
a decision cache can key on them, and cheap to build for a call that has no flow-relevant data.

What reaches Cedar (see ``docs/adr/0025-data-aware-decisions.md``):

- ``context.task`` (the Task entity) gains ``read_untrusted: Bool``, ``max_sensitivity: String``
  (``public`` … ``secret``), ``sensitivity_level: Long`` (0 … 3) — :meth:`TaskLabels.task_attrs`;
- ``context.provenance`` — :meth:`Provenance.to_cedar`;
- ``context.destinations`` — ``{domains: Set<String>}``: the e-mail domains and URL hosts of the
  call's destination arguments (lower case), so a policy can say
  ``["example.com"].containsAll(context.destinations.domains)``;
- ``context.history`` — one attribute per declared counter (``counters.yaml`` in the policy
  directory): ``count`` → Long, ``sum`` → decimal, ``seen`` and ``first_time`` → Bool;
- ``context.args`` — only on a tool's own action: its arguments, typed from its input schema
  (``proctor.policy.argschema``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = [
    "INJECTION_REASON",
    "ArgOrigin",
    "FlowFacts",
    "Labels",
    "Origin",
    "Provenance",
    "Sensitivity",
    "TaskLabels",
    "Trust",
    "decimal_cedar",
    "internal_domains",
    "is_internal",
    "lookalike_name",
    "lookalike_of",
    "lookalike_skeleton",
    "mail_provider",
]


#: the reason a label gives for a prompt-injection marker found in the content (its kind follows)
INJECTION_REASON = "content: prompt-injection marker "


class Trust(enum.StrEnum):
    TRUSTED = "trusted"
    UNTRUSTED = "untrusted"


class Sensitivity(enum.IntEnum):
    """Ordered: a task's high-water mark is the ``max`` of what it read."""

    PUBLIC = 0
    INTERNAL = 1
    CONFIDENTIAL = 2
    SECRET = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, name: str) -> Sensitivity:
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(
                f"unknown sensitivity `{name}`: use public, internal, confidential or secret"
            ) from None


@dataclass(frozen=True, slots=True)
class Labels:
    """The labels one tool output carries, and why (``registry: untrusted``, ``content: AWS key``).
    ``reasons`` never holds a value from the content, only kinds and fingerprints."""

    trust: Trust
    sensitivity: Sensitivity
    reasons: tuple[str, ...] = ()

    @property
    def steering(self) -> bool:
        """The content addresses orders to the agent (a prompt-injection marker was found in it,
        :func:`proctor.flow.labels.injection_markers`): values found in it steer a call."""
        return any(r.startswith(INJECTION_REASON) for r in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "trust": self.trust.value,
            "sensitivity": self.sensitivity.label,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True, slots=True)
class TaskLabels:
    """The high-water mark of what a task has read so far."""

    read_untrusted: bool = False
    max_sensitivity: Sensitivity = Sensitivity.PUBLIC
    #: the tools whose untrusted output the task read (names, sorted)
    untrusted_sources: tuple[str, ...] = ()
    outputs: int = 0

    def task_attrs(self) -> dict[str, Any]:
        """The attributes added to the Task entity."""
        return {
            "read_untrusted": self.read_untrusted,
            "max_sensitivity": self.max_sensitivity.label,
            "sensitivity_level": int(self.max_sensitivity),
        }


class Origin(enum.StrEnum):
    """Where an argument value was found, best first: a value found in the intent is ``intent``
    even if an untrusted output also holds it."""

    INTENT = "intent"  # the task's purpose or an explicit --param
    TRUSTED = "trusted"  # a trusted output the task read
    UNTRUSTED = "untrusted"  # only untrusted outputs hold it
    NONE = "none"  # nowhere: the model made it up (or it is too short to trace, see ``traced``)


@dataclass(frozen=True, slots=True)
class ArgOrigin:
    """One traced argument value. ``path`` names the argument, never its value: ``amount``,
    ``to[]`` (an element of a list), ``recipient.email`` (a nested field)."""

    path: str
    origin: Origin
    #: where it was found: ``intent``, ``param:<name>``, or the tool names of the outputs
    sources: tuple[str, ...] = ()
    #: the argument decides where data or money goes (see ``destination_paths``)
    destination: bool = False
    #: a destination's e-mail domains and URL hosts (lower case; empty: none, as an IBAN, a
    #: channel or a ticket id): whether it stays inside the organisation (``Provenance.to_cedar``).
    #: Not in the decision record (``to_dict``): the call's domains are in ``destinations``
    domains: tuple[str, ...] = ()
    #: a destination list's elements one by one: each element's origin and domains (empty: no
    #: domain), so that a made-up colleague's address beside a traced outside one is not read as
    #: "an outside destination from nowhere". Empty: the path's ``origin`` and ``domains`` stand
    #: for every element. Not in the decision record.
    parts: tuple[tuple[Origin, tuple[str, ...]], ...] = ()

    def outside_origins(self, internal: tuple[str, ...] | list[str]) -> list[Origin]:
        """The origins of this destination's values that are not shown to stay inside: a domain
        outside ``internal``, or no domain at all (an IBAN, a channel, a ticket id)."""
        parts = self.parts or ((self.origin, self.domains),)
        return [o for o, doms in parts if not (doms and all(is_internal(d, internal) for d in doms))]

    def to_dict(self) -> dict[str, Any]:
        return {
            "arg": self.path,
            "origin": self.origin.value,
            "sources": list(self.sources),
            "destination": self.destination,
        }


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a call's argument values came from. ``checked`` is False for a call that was not
    traced (its effect is ``read``, or flow is off): every set is then empty and every flag false."""

    checked: bool = False
    args: tuple[ArgOrigin, ...] = ()
    #: the registrable domains (``learn.example.com`` → ``example.com``) of the URLs and e-mail
    #: addresses embedded in free text that only untrusted content holds (see ``embedded``)
    embedded_domains: tuple[str, ...] = ()
    #: the registrable domains of every link and e-mail address embedded in free text, whatever
    #: their origin (for ``destinations.lookalike``); not in the decision record
    linked_domains: tuple[str, ...] = ()
    #: argument paths whose name is an explicit task parameter (``--param amount=20``) but whose
    #: value is neither that parameter's nor found anywhere else in the intent
    off_param: tuple[str, ...] = ()
    #: the destination paths whose value names a party (an e-mail address, a URL, a host), as
    #: opposed to a file or a channel; empty when not known (``destinations_from_intent`` then
    #: reads every destination)
    parties: tuple[str, ...] = ()
    #: a fetch (a read-effect tool flagged ``egress``): its URL's path or query, or another of its
    #: arguments, carries a value found in a confidential or secret output the task read and not
    #: in the request (``proctor.flow.provenance.SourceIndex.trace``); always False for other calls
    carries_confidential: bool = False
    #: the arguments carry a secret: a credential the detectors find, or a token shaped like a
    #: secret value found only in an output labelled secret
    #: (``proctor.flow.provenance.SourceIndex.carries_secret``)
    carries_secret: bool = False
    #: a payment the request asked for: its purpose or parameters name a payment, a refund or an
    #: amount of money, or an argument of the call traces to the request (``payee: Lucas Meyer``);
    #: always False for a call that is not a ``pay``
    payment_requested: bool = False
    #: a value too short to trace (a small integer, a string under 3 characters) or a boolean,
    #: not a destination, that the request does not hold (``enabled: false``, ``replicas: 0``
    #: where the request asked only to check): such values count as the intent's everywhere
    #: else, but not for ``all_from_intent``
    unrequested_trivial: bool = False
    #: the destination paths that name what a call changes access to (the file to share: a
    #: destination by name for a tool flagged ``access_control``), not who gets access; the rest
    #: are its audience (``audience_seen`` in :meth:`to_cedar`)
    objects: tuple[str, ...] = ()
    #: argument paths (embedded values too) whose value is found in an output that addresses
    #: orders to the agent (a prompt-injection marker, ``Labels.steering``) and not in the
    #: request: the content told the agent to use it
    steered: tuple[str, ...] = ()
    #: a message with no recipient of its own: its destinations are the record it answers (a
    #: ticket, a review, a booking: ``proctor.flow.provenance.reply_targets``), whose owner gets it
    by_reference: bool = False
    #: untrusted destination paths whose every value is the author of untrusted content the task
    #: read (a ``From:`` header, a ``sender`` field): a reply goes back to who wrote in
    to_sender: tuple[str, ...] = ()
    #: such a reply carries a value of a confidential output (see
    #: ``SourceIndex.carries_confidential``)
    sender_carries_confidential: bool = False
    #: destination and link domains made to look like a counterparty the request or trusted data
    #: names (``SourceIndex._known_lookalikes``): added to ``destinations.lookalike``
    known_lookalikes: tuple[str, ...] = ()
    #: destination domains whose name is an organisation the request names ("… to Summit Auto
    #: Finance" and ``summitautofinance.example``: ``SourceIndex.names_party``): with every
    #: destination outside such a domain, ``destination_named_party``
    named_domains: tuple[str, ...] = ()
    #: argument paths that say how much: a number, or a name with an amount word (``amount``,
    #: ``unit_price``, ``discount_pct``, ``quantity_cy``: ``proctor.flow.provenance.amount_paths``)
    amounts: tuple[str, ...] = ()
    #: of ``amounts``, those whose value a trusted output holds and untrusted content states too
    #: (an invoice e-mail's total that is the ledger's open item; a ticket's "full month credit of
    #: $8,400" that is the account's monthly fee): the outsider may have chosen which trusted
    #: number to use, so ``amount_traced`` does not count them
    amounts_stated: tuple[str, ...] = ()
    #: a payment sets an amount only untrusted content gives, while a trusted
    #: record of what the request names (its invoice, PO, patient, member) states an amount of
    #: money: the organisation's own figure was there and another was paid
    amount_off_record: bool = False

    def _paths(self, origin: Origin, *, destination: bool | None = None) -> tuple[str, ...]:
        return tuple(
            sorted(
                {
                    a.path
                    for a in self.args
                    if a.origin is origin and (destination is None or a.destination == destination)
                }
            )
        )

    @property
    def untrusted_args(self) -> tuple[str, ...]:
        return self._paths(Origin.UNTRUSTED)

    @property
    def embedded(self) -> tuple[ArgOrigin, ...]:
        """The values embedded in free text: paths ``<arg>#<kind>`` (``body#url``, ``text#email``,
        ``note#iban``), one per argument and kind, with the worst origin of its values."""
        return tuple(a for a in self.args if "#" in a.path)

    def _embedded(self, origin: Origin) -> list[ArgOrigin]:
        return [a for a in self.args if a.origin is origin and "#" in a.path]

    @property
    def unsourced_args(self) -> tuple[str, ...]:
        return self._paths(Origin.NONE)

    def to_cedar(
        self, internal: tuple[str, ...] | list[str] = (), destinations: tuple[str, ...] | list[str] = ()
    ) -> dict[str, Any]:
        """``context.provenance``. A list argument appears once per path (``to[]``): it is
        untrusted when any element is untrusted (the worst element's origin counts). ``internal``:
        the organisation's domains (``FlowFacts.internal``): a destination all of whose domains are
        inside (at least one, none unreadable) does not count in ``external_destination_*``.
        ``destinations``: the call's destination domains (``FlowFacts.destinations``): one
        outside that is no named party's makes ``destination_named_party`` false."""
        dest = [a for a in self.args if a.destination]
        # a destination not shown to stay inside: a domain outside, or no domain at all (an IBAN,
        # a channel, a ticket id: nothing says where it leads)
        outside = [o for a in dest for o in a.outside_origins(internal)]
        untrusted = self._embedded(Origin.UNTRUSTED)
        named = [a for a in dest if a.path in self.parties] if self.parties else dest
        return {
            "checked": self.checked,
            "untrusted_args": list(self.untrusted_args),
            "unsourced_args": list(self.unsourced_args),
            # a trivially short value (``trivial``) counts as no argument traced to the intent
            "intent_args": sorted(
                {a.path for a in self.args if a.origin is Origin.INTENT and a.sources != ("trivial",)}
            ),
            "trusted_args": list(self._paths(Origin.TRUSTED)),
            "destination_untrusted": any(a.origin is Origin.UNTRUSTED for a in dest),
            "destination_unsourced": any(a.origin is Origin.NONE for a in dest),
            "all_traced": self.checked
            and all(a.origin in (Origin.INTENT, Origin.TRUSTED) for a in self.args),
            "destinations_from_intent": bool(named) and all(a.origin is Origin.INTENT for a in named),
            "destination_traced": bool(dest)
            and all(a.origin in (Origin.INTENT, Origin.TRUSTED) for a in dest),
            "embedded_untrusted": bool(untrusted),
            "embedded_unsourced": bool(self._embedded(Origin.NONE)),
            "embedded_untrusted_kinds": sorted({a.path.rsplit("#", 1)[1] for a in untrusted}),
            "embedded_untrusted_domains": list(self.embedded_domains),
            "off_param_args": list(self.off_param),
            "external_destination_untrusted": Origin.UNTRUSTED in outside,
            "external_destination_unsourced": Origin.NONE in outside,
            # every value (embedded ones too) from the request itself: purpose text, --param,
            # the requester's address; a trivially short value or a switch only where the
            # request holds it too
            "all_from_intent": self.checked
            and bool(self.args)
            and not self.unrequested_trivial
            and all(a.origin is Origin.INTENT for a in self.args),
            "carries_confidential": self.carries_confidential,
            "carries_secret": self.carries_secret,
            "payment_requested": self.payment_requested,
            "steered_args": list(self.steered),
            "recipient_by_reference": self.by_reference,
            # every untrusted or made-up destination is the author of what the task read, and
            # the call carries no value of a confidential output
            "reply_to_sender": bool(self.to_sender)
            and not self.sender_carries_confidential
            and all(a.path in self.to_sender for a in dest if a.origin in (Origin.UNTRUSTED, Origin.NONE)),
            # a destination with a value that is not the object acted on (the grantee of a share)
            "audience_seen": any(a.path not in self.objects for a in dest),
            "destination_named_party": self._named_party(dest, internal)
            and all(d in self.named_domains or is_internal(d, internal) for d in destinations),
            # an amount, a quantity, a price or a discount someone outside wrote
            "untrusted_amount": any(
                a.origin is Origin.UNTRUSTED and a.path in self.amounts for a in self.args
            ),
            # every argument that says how much (one at least) traces to the request (not by a
            # trivially short match) or to trusted data that no untrusted content states too: no
            # outsider chose it (not even among the trusted record's numbers), nor did the model
            "amount_traced": self._amount_traced(),
            "amount_off_record": self.amount_off_record,
        }

    def _amount_traced(self) -> bool:
        got = [a for a in self.args if a.path in self.amounts]
        return (
            self.checked
            and bool(got)
            and all(
                (a.origin is Origin.TRUSTED and a.path not in self.amounts_stated)
                or (a.origin is Origin.INTENT and a.sources != ("trivial",))
                for a in got
            )
        )

    def _named_party(self, dest: list[ArgOrigin], internal: tuple[str, ...] | list[str]) -> bool:
        """Every destination value outside the organisation has domains, all of them the name of
        an organisation the request names (``named_domains``); at least one such value. (A
        destination value too long to be one, ``proctor.flow.provenance.LONG_TEXT``, is in no
        ``dest`` entry: :meth:`to_cedar` checks the call's destination domains too.)"""
        if not self.named_domains:
            return False
        named = set(self.named_domains)
        seen = False
        for a in dest:
            for _, doms in a.parts or ((a.origin, a.domains),):
                if doms and all(is_internal(d, internal) for d in doms):
                    continue
                if not doms or not all(d in named or is_internal(d, internal) for d in doms):
                    return False
                seen = True
        return seen

    def to_record(self) -> dict[str, Any]:
        """What the decision record keeps: names and origins, never values (embedded values are
        ``args`` entries ``<arg>#<kind>``; ``off_param`` names arguments, never values)."""
        out: dict[str, Any] = {"checked": self.checked, "args": [a.to_dict() for a in self.args]}
        if self.off_param:
            out["off_param"] = list(self.off_param)
        if self.steered:
            out["steered"] = list(self.steered)
        if self.carries_secret:
            out["carries_secret"] = True
        return out


def is_internal(domain: str, internal: tuple[str, ...] | list[str]) -> bool:
    """``domain`` is one of ``internal`` or a subdomain of one (``mail.acme.com`` under
    ``acme.com``); a lookalike (``acme-corp.com``, ``acme.com.evil.io``) is not."""
    d = domain.lower().rstrip(".")
    return any(d == i or d.endswith("." + i) for i in internal if i)


#: look-alike letters: what a reader takes for the other (``rn`` for ``m``, ``0`` for ``o``)
_CONFUSABLE = (
    ("rn", "m"),
    ("vv", "w"),
    ("cl", "d"),
    ("0", "o"),
    ("1", "l"),
    ("i", "l"),
    ("5", "s"),
    ("-", ""),
)


def _skeleton(label: str) -> str:
    out = label.lower()
    for a, b in _CONFUSABLE:
        out = out.replace(a, b)
    return out


def _edits(a: str, b: str, limit: int) -> int:
    """The optimal string alignment distance of ``a`` and ``b`` (insert, delete, substitute, swap
    two neighbours), or ``limit + 1`` as soon as it is known to exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _name_of(domain: str) -> str:
    """The label that names the owner: ``lakeshore-hotels`` of ``mail.lakeshore-hotels.co.uk``."""
    labels = domain.lower().rstrip(".").split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SLD_NAMES:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else labels[0]


#: names reserved for documentation and tests (RFC 2606, RFC 6761): everyone's, so no one's look-alike
_RESERVED_NAMES = frozenset({"example", "test", "invalid", "localhost", "local"})
_SLD_NAMES = frozenset({"co", "com", "net", "org", "gov", "ac", "edu", "ne", "or", "go", "ltd", "plc"})


def lookalike_name(domain: str) -> str:
    """The name :func:`lookalike_of` compares of ``domain`` (an international name without its
    non-ASCII letters)."""
    name = _name_of(domain.lower().rstrip("."))
    if name.startswith("xn--"):
        try:
            name = name.encode("ascii").decode("idna")
        except UnicodeError:
            return name
        name = "".join(c for c in name if c.isascii())
    return name


def lookalike_skeleton(name: str) -> str:
    """``name`` with look-alike letters folded (``rn`` → ``m``, ``0`` → ``o``, ``-`` dropped)."""
    return _skeleton(name)


def lookalike_of(domain: str, internal: tuple[str, ...] | list[str]) -> bool:
    """``domain`` is outside the organisation but made to be read as one of its domains
    (``internal``): the same name under another suffix (``northwind.co``), the name as a label or a
    hyphenated part of another domain (``northwind.example.evil.io``, ``northwind-audit.example``,
    ``audit-northwind.example``), a name one or two typing steps away (``lakeshore-hotel`` for
    ``lakeshore-hotels``: one for names under 8 letters) or written with look-alike letters
    (``rnicrosoft``, ``n0rthwind``), or an international name that is one of these once its
    non-ASCII letters are set aside. A name under 4 letters, or reserved for documentation
    (``example.com``, RFC 2606), is never compared (too many coincidences). The check business e-mail compromise relies on: a lookalike of the sender's own
    domain."""
    d = domain.lower().rstrip(".")
    if not d or is_internal(d, internal):
        return False
    labels = d.split(".")
    name = _name_of(d)
    if name.startswith("xn--"):
        try:
            name = name.encode("ascii").decode("idna")
        except UnicodeError:
            return False
        name = "".join(c for c in name if c.isascii())
    parts = name.split("-")
    for inside in internal:
        org = _name_of(inside)
        if len(org) < 4 or org in _RESERVED_NAMES or inside.lower() in PUBLIC_MAIL_DOMAINS:
            continue
        if org in labels[:-1] or name == org:
            return True
        if org in parts or (
            len(org) >= 5 and "-" not in org and (name.startswith(org) or name.endswith(org))
        ):
            return True
        if "-" in org and (name.startswith(org + "-") or name.endswith("-" + org)):
            return True
        if _skeleton(name) == _skeleton(org):
            return True
        if _edits(name, org, 2) <= (1 if len(org) < 8 else 2):
            return True
    return False


#: public mail providers: an owner or a requester with an address there does not make everyone's
#: address there the organisation's (``flow.internal_domains`` may still name one on purpose)
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "mail.ru",
        "yandex.com",
        "yandex.ru",
        "zoho.com",
        "fastmail.com",
        "tutanota.com",
        "qq.com",
        "163.com",
        "126.com",
        "hey.com",
        # more providers anyone can open an address at (issue 15, third red team)
        "protonmail.ch",
        "proton.ch",
        "tuta.io",
        "tutanota.de",
        "duck.com",
        "hushmail.com",
        "mailbox.org",
        "posteo.de",
        "posteo.net",
        "aim.com",
        "rocketmail.com",
        "email.com",
        "usa.com",
        "inbox.com",
        "zohomail.com",
        "yandex.ua",
        "ya.ru",
        "rambler.ru",
        "bk.ru",
        "list.ru",
        "inbox.ru",
        "ukr.net",
        "t-online.de",
        "freenet.de",
        "orange.fr",
        "free.fr",
        "sfr.fr",
        "laposte.net",
        "libero.it",
        "virgilio.it",
        "seznam.cz",
        "wp.pl",
        "o2.pl",
        "interia.pl",
        "naver.com",
        "daum.net",
        "hanmail.net",
        "sina.com",
        "yeah.net",
        "rediffmail.com",
        "comcast.net",
        "att.net",
        "verizon.net",
        "sbcglobal.net",
        "btinternet.com",
        "sky.com",
    }
)


def mail_provider(domain: str) -> bool:
    """``domain`` is a public mail provider (``gmail.com``, ``yahoo.co.uk``, ``hotmail.fr``)."""
    if domain in PUBLIC_MAIL_DOMAINS:
        return True
    first = domain.split(".", 1)[0]
    return first in {
        "gmail",
        "googlemail",
        "outlook",
        "hotmail",
        "live",
        "yahoo",
        "ymail",
        "aol",
        "gmx",
        "protonmail",
        "proton",
        "tutanota",
        "icloud",
        "yandex",
        "zoho",
        "zohomail",
        "fastmail",
        "tuta",
        "posteo",
        "hushmail",
    }


def internal_domains(configured: Iterable[str], owner: str = "", *requesters: str) -> tuple[str, ...]:
    """The organisation's domains: ``configured`` plus the domain of the agent's ``owner`` and of each
    of ``requesters`` (the task's requester) that is the organisation's, lower case, sorted. A
    domain counts only when it is an organisation's: not a public mail provider's (a requester
    writing from ``alice@gmail.com`` does not make every gmail.com address inside) and not a name
    without a dot (``localhost``, ``com``: every address under it would be inside). [red team 34] A
    requester's domain counts only when the requester is of the organisation: the domain is
    already inside, or a parent of one (``acme.example`` beside an owner at
    ``bots.acme.example``). An outside customer who asks a service's agent for something
    (``alice@state-uni.example``) does not make every address at their university inside."""
    out = {c.strip().lower().rstrip(".") for c in configured if c and c.strip()}
    owner_domain = _org_domain(owner)
    if owner_domain:
        out.add(owner_domain)
    out.discard("")
    for e in requesters:
        domain = _org_domain(e)
        if domain and any(d == domain or d.endswith("." + domain) or domain.endswith("." + d) for d in out):
            out.add(domain)
    return tuple(sorted(out))


def _org_domain(email: str) -> str:
    """The domain of ``email`` when it can be an organisation's (see :func:`internal_domains`), or
    the empty string."""
    if "@" not in email:
        return ""
    domain = email.rsplit("@", 1)[1].strip().lower().rstrip(".")
    return domain if "." in domain and not mail_provider(domain) else ""


def decimal_cedar(value: Decimal) -> dict[str, Any]:
    """A Python Decimal as Cedar's ``decimal`` extension value (at most 4 fractional digits;
    more are refused by Cedar, so the caller rounds first)."""
    text = format(value.quantize(Decimal("0.0001")), "f")
    return {"__extn": {"fn": "decimal", "arg": text}}


@dataclass(frozen=True, slots=True)
class FlowFacts:
    """Everything the flow stage knows about one call, for the decision."""

    task: TaskLabels = field(default_factory=TaskLabels)
    provenance: Provenance = field(default_factory=Provenance)
    #: declared counters, by name, sorted: Long (int), decimal (Decimal) or Bool
    history: tuple[tuple[str, int | Decimal | bool], ...] = ()
    #: the e-mail domains and URL hosts of the destination arguments, lower case, sorted
    destinations: tuple[str, ...] = ()
    #: the organisation's domains (``flow.internal_domains``, plus the owner's and the requester's
    #: e-mail domains): a destination domain equal to one of them, or under it, is inside
    internal: tuple[str, ...] = ()

    def key(self) -> tuple[Any, ...]:
        """A hashable key: two calls with equal facts decide alike (given equal args)."""
        return (self.task, self.provenance, self.history, self.destinations, self.internal)

    def external(self, domains: tuple[str, ...] | list[str]) -> list[str]:
        """The ``domains`` outside the organisation (see ``internal``)."""
        return [d for d in domains if not is_internal(d, self.internal)]

    def context(self) -> dict[str, Any]:
        """The Cedar context attributes besides ``task``, ``resource``, ``in_scope``, ``args``."""
        hist: dict[str, Any] = {}
        for name, value in self.history:
            hist[name] = decimal_cedar(value) if isinstance(value, Decimal) else value
        return {
            "provenance": self.provenance.to_cedar(self.internal, self.destinations),
            "destinations": self._destinations(),
            "history": hist,
        }

    def _destinations(self) -> dict[str, Any]:
        outside = self.external(self.destinations)
        look = sorted(
            {
                d
                for d in (*outside, *self.external(self.provenance.linked_domains))
                if lookalike_of(d, self.internal)
            }
            | set(self.external(self.provenance.known_lookalikes))
        )
        return {
            "domains": list(self.destinations),
            "external": bool(outside),
            "external_domains": outside,
            "embedded_external": bool(self.external(self.provenance.embedded_domains)),
            "lookalike": bool(look),
            "lookalike_domains": look,
        }

    def history_dict(self) -> Mapping[str, int | Decimal | bool]:
        return dict(self.history)


#: the facts of a call with nothing flow-relevant: nothing read, nothing traced, no counters
NO_FACTS = FlowFacts()
