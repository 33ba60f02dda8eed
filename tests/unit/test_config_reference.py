"""docs/config-reference.md documents every key the configuration parsers accept."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from proctor.config import ENV_OVERRIDES, GATEWAY_AUDIT_MODES, TOOL_FLAGS, config_keys, load_settings
from proctor.errors import ConfigError
from proctor.gateway.config import upstream_from_mapping, upstreams_keys
from proctor.types import BUILTIN_EFFECTS, Sensitivity, Trust

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "config-reference.md"


def _documented() -> set[str]:
    return set(re.findall(r"`([^`\s]+)`", REFERENCE.read_text(encoding="utf-8")))


def test_every_proctor_yaml_key_is_documented() -> None:
    """A key `load_settings` accepts and the reference does not name fails here."""
    missing = [k for k in config_keys() if k not in _documented()]
    assert not missing, f"docs/config-reference.md lacks: {missing}"


def test_every_upstreams_yaml_key_is_documented() -> None:
    """The same for `upstreams.yaml`, credentials of every provider included."""
    missing = [k for k in upstreams_keys() if k not in _documented()]
    assert not missing, f"docs/config-reference.md lacks: {missing}"


def test_values_and_environment_are_documented() -> None:
    """Flags, effects, labels, gateway audit modes and the environment overrides are named."""
    names = [*TOOL_FLAGS, *BUILTIN_EFFECTS, *Trust, *Sensitivity, *GATEWAY_AUDIT_MODES, *ENV_OVERRIDES]
    missing = [str(n) for n in names if str(n) not in _documented()]
    assert not missing, f"docs/config-reference.md lacks: {missing}"


def _allowed(message: str) -> set[str]:
    m = re.search(r"allowed: (.*)$", message)
    assert m, message
    return set(m.group(1).split(", "))


def _children(prefix: str, keys: list[str]) -> set[str]:
    return {k[len(prefix) :] for k in keys if k.startswith(prefix) and "." not in k[len(prefix) :]}


@pytest.mark.parametrize(
    ("doc", "prefix"),
    [
        ({}, ""),
        ({"identity": {}}, "identity."),
        ({"tasks": {}}, "tasks."),
        ({"audit": {}}, "audit."),
        ({"server": {}}, "server."),
        ({"policies": {}}, "policies."),
        ({"gateway": {}}, "gateway."),
        ({"approvals": {}}, "approvals."),
        ({"flow": {}}, "flow."),
        ({"login": {}}, "login."),
        ({"login": {"oidc": {}}}, "login.oidc."),
        ({"approvals": {"webhooks": [{}]}}, "approvals.webhooks[]."),
        ({"tools": [{}]}, "tools[]."),
    ],
)
def test_the_listed_keys_are_what_the_parser_accepts(
    tmp_path: Path, doc: dict[str, Any], prefix: str
) -> None:
    """The introspected keys are the parser's: its refusal of an unknown key lists the same set."""
    target: dict[str, Any] = {"trust_domain": "t.example", **doc}
    node: dict[str, Any] = target
    for part in [p for p in prefix.split(".") if p]:
        child = node[part.removesuffix("[]")]
        node = child[0] if isinstance(child, list) else child
    node["zz_unknown"] = 1
    (tmp_path / "proctor.yaml").write_text(yaml.safe_dump(target))
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "proctor.yaml", env={})
    assert _allowed(err.value.message) == _children(prefix, config_keys())


def test_upstream_keys_are_what_the_parser_accepts() -> None:
    """The same for an `upstreams.yaml` entry and a tool description."""
    with pytest.raises(ConfigError) as err:
        upstream_from_mapping({"namespace": "x", "command": "/bin/true", "zz_unknown": 1})
    assert _allowed(err.value.message) == _children("upstreams[].", upstreams_keys())
    with pytest.raises(ConfigError) as err:
        upstream_from_mapping({"namespace": "x", "command": "/bin/true", "default": {"zz_unknown": 1}})
    takes = set(err.value.message.split(" takes ")[1].split(", "))
    assert takes == _children("upstreams[].default.", upstreams_keys())
