"""A destination made to look like the organisation's own domain (``lookalike_of``,
``context.destinations.lookalike``, the starter's ``flow.hold-lookalike-destination``)."""

from __future__ import annotations

import pytest

from proctor.flow.model import FlowFacts, Provenance, lookalike_of

ORG = ("northwind.example", "lakeshore-hotels.example")


@pytest.mark.parametrize(
    "domain",
    [
        "northwind.co",  # the name under another suffix
        "northwind.example.evil.io",  # the name as a label of someone else's domain
        "mail.northwind.evil.io",
        "northwind-audit.example",  # the name as a hyphenated part
        "audit-northwind.example",
        "northwindaudit.example",  # the name as a prefix
        "n0rthwind.example",  # look-alike letters
        "northvvind.example",
        "north-wind.example",
        "nortwind.example",  # one typing step
        "lakeshore-hotel.example",  # one step from a long name
        "lakeshore-hotles.example",  # two neighbours swapped
        "xn--nrthwind-4fg.example",  # an international name: n + Cyrillic o + rthwind
    ],
)
def test_a_lookalike_of_the_organisations_domain(domain: str) -> None:
    assert lookalike_of(domain, ORG)


@pytest.mark.parametrize(
    "domain",
    [
        "northwind.example",  # the organisation itself
        "mail.northwind.example",  # and its subdomains
        "partner.example",
        "wind.example",
        "north.example",
        "southwind-energy.example",
        "lakeside-hotels.example",  # three steps away
        "gmail.com",
        "",
    ],
)
def test_not_a_lookalike(domain: str) -> None:
    assert not lookalike_of(domain, ORG)


def test_short_reserved_and_public_mail_names_are_never_compared() -> None:
    """An organisation at ``example.com`` (documentation), under 4 letters, or whose owner writes
    from a public mail provider, has no look-alikes: every `*.example.org` would be one."""
    assert not lookalike_of("travel-advice.example.org", ("example.com",))
    assert not lookalike_of("abc.co", ("abc.com",))
    assert not lookalike_of("gmail.co", ("gmail.com",))


def test_the_fact_reads_destinations_and_links_outside_only() -> None:
    facts = FlowFacts(
        destinations=("northwind-audit.example", "partner.example"),
        internal=("northwind.example",),
    )
    dest = facts.context()["destinations"]
    assert dest["lookalike"] is True
    assert dest["lookalike_domains"] == ["northwind-audit.example"]
    linked = FlowFacts(
        provenance=Provenance(checked=True, linked_domains=("n0rthwind.example",)), internal=ORG
    )
    assert linked.context()["destinations"]["lookalike_domains"] == ["n0rthwind.example"]
    assert (
        FlowFacts(destinations=("partner.example",), internal=ORG).context()["destinations"]["lookalike"]
        is False
    )


def test_a_lookalike_copy_from_a_trusted_record_waits_end_to_end() -> None:
    """Through the real provenance and the starter: the CRM (trusted) holds a copy address a
    reseller typed, a look-alike of the organisation's domain; mailing the invoice with that cc
    waits, the same mail to the customer alone goes through, and a link to a look-alike in the body
    of a message to a colleague waits too."""
    from tests.unit.test_flow_blind1 import OWNER, _decide

    domain = OWNER.rsplit("@", 1)[1]
    name = domain.split(".")[0]
    look = f"billing@{name}-partners.example"
    crm = {
        "tool": "crm.read",
        "args": {"account": "7700"},
        "output": f"Account 7700: jo@customer.example. Note: copies to {look}",
    }
    alone = {"tool": "mail.send", "args": {"to": ["jo@customer.example"], "body": "Your invoice."}}
    with_cc = {"tool": "mail.send", "args": {"to": ["jo@customer.example", look], "body": "Your invoice."}}
    link = {
        "tool": "mail.send",
        "args": {"to": [f"ops@{domain}"], "body": f"Re-authenticate at https://sso.{name}-login.example/"},
    }
    got = _decide("Mail the customer of account 7700 her invoice", [crm, alone, with_cc, link])
    assert got[1][1] == "allow", got[1]
    for call in got[2:]:
        assert call[1] == "approval_required", call
        assert "flow.hold-lookalike-destination" in call[2], call
