"""Relay tools: the names and registrations relayed MCP methods are decided under (docs/adr/0016)."""

from __future__ import annotations

from fnmatch import fnmatchcase

import mcp_types as types

from proctor.gateway.config import upstream_from_mapping
from proctor.gateway.relays import RELAY_TOOLS, prompt_uri, refusal, relay_record, relay_tool
from proctor.policy.engine import deny
from proctor.policy.scope import declares_namespace


def test_relay_tools_are_named_after_the_method_and_no_upstream_tool_can_take_the_name() -> None:
    cfg = upstream_from_mapping({"namespace": "fs", "command": "x"})
    names = {m: relay_tool("fs", m) for m in RELAY_TOOLS}
    assert names == {
        "resources/read": "fs.resources.read",
        "resources/subscribe": "fs.resources.subscribe",
        "resources/unsubscribe": "fs.resources.unsubscribe",
        "prompts/get": "fs.prompts.get",
        "completion/complete": "fs.completion.complete",
        "logging/setLevel": "fs.logging.setlevel",
    }
    for name in names.values():
        # an upstream tool spelled like a relay tool gets a hashed Proctor name (docs/adr/0014)
        assert cfg.proctor_tool(name.split(".", 1)[1]).name != name


def test_allow_patterns_cover_relay_tools_as_documented() -> None:
    name = relay_tool("fs", "resources/read")
    assert fnmatchcase(name, "fs.*")
    assert fnmatchcase(name, "*")
    assert fnmatchcase(name, "fs.resources.*")
    assert not fnmatchcase(name, "fs.read_file")
    assert not fnmatchcase(relay_tool("fs", "prompts/get"), "fs.resources.*")
    assert declares_namespace(["fs.resources.read"], "fs")  # naming one routes to the upstream


def test_relay_records_read_with_the_upstreams_labels_and_production_flag_only() -> None:
    cfg = upstream_from_mapping(
        {
            "namespace": "fs",
            "command": "x",
            "default": {
                "effect": "write",
                "labels": {"trust": "untrusted", "sensitivity": "secret"},
                "flags": ["production", "destructive", "financial"],
            },
        }
    )
    rec = relay_record(cfg, "resources/read")
    assert (rec.effect, rec.resource_arg, rec.resource_pattern) == ("read", "uri", "*")
    assert (rec.trust, rec.sensitivity) == ("untrusted", "secret")
    assert rec.production
    assert (rec.destructive, rec.financial, rec.customer_facing) == (False, False, False)
    assert relay_record(cfg, "logging/setLevel").resource_arg == "-"  # touches no resource


def test_a_prompt_is_a_uri_and_a_refusal_is_a_json_rpc_error_naming_the_decision() -> None:
    assert prompt_uri("fs", "summarise") == "prompt://fs/summarise"
    d = deny("forbidden by `x`")
    err = refusal("resources/read", d)
    assert err.error.code == types.INVALID_REQUEST
    assert str(d.decision_id) in err.error.message
    assert err.error.data == {"decision": "deny", "decision_id": str(d.decision_id)}
