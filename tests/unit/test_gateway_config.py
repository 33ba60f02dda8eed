"""``upstreams.yaml``: what it accepts, what it refuses, and how upstream tools become Proctor tools."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from proctor.errors import ConfigError, ValidationError
from proctor.gateway import names
from proctor.gateway.config import (
    UPSTREAMS_FILE,
    UpstreamConfig,
    load_upstreams,
    save_upstreams,
    upstream_from_mapping,
)
from proctor.gateway.names import (
    canonical_name,
    canonical_part,
    check_namespace,
    exposed_name,
    name_table,
    routable,
    split,
)
from proctor.gateway.pinning import pin_name
from proctor.types import ToolName


def stdio(**kw: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"namespace": "fs", "command": "mcp-server-filesystem", "args": ["/data"]}
    raw.update(kw)
    return raw


def write(root: Path, text: str) -> None:
    (root / UPSTREAMS_FILE).write_text(text, encoding="utf-8")


# round trip ------------------------------------------------------------------------------------
def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    """save_upstreams then load_upstreams gives back equal configs, stdio and http, overrides included."""
    ups = [
        upstream_from_mapping(
            stdio(
                env={"FS_MODE": "ro"},
                default={"effect": "read"},
                tools={"write_file": {"effect": "write", "resource_arg": "path", "flags": ["destructive"]}},
                timeout="90s",
            )
        ),
        upstream_from_mapping(
            {"namespace": "web", "url": "https://mcp.example.com/mcp", "prefix": False, "timeout": "2m"}
        ),
    ]
    save_upstreams(tmp_path, ups)
    assert load_upstreams(tmp_path) == ups
    fs, web = load_upstreams(tmp_path)
    assert fs.transport == "stdio"
    assert fs.env == {"FS_MODE": "ro"}
    assert fs.timeout_s == 90.0
    assert web.transport == "http"
    assert web.prefix is False
    assert web.timeout_s == 120.0


def test_saved_file_is_owner_only_and_absent_file_means_none(tmp_path: Path) -> None:
    """No file is no upstreams; a saved file (it may hold env values) is readable by its owner only."""
    assert load_upstreams(tmp_path) == []
    save_upstreams(tmp_path, [upstream_from_mapping(stdio())])
    assert (tmp_path / UPSTREAMS_FILE).stat().st_mode & 0o077 == 0
    assert not list(tmp_path.glob(".upstreams-*"))  # no temporary file left behind


def test_empty_file_means_no_upstreams(tmp_path: Path) -> None:
    """An empty file, or `upstreams:` with nothing under it, is a valid empty list."""
    write(tmp_path, "")
    assert load_upstreams(tmp_path) == []
    write(tmp_path, "upstreams:\n")
    assert load_upstreams(tmp_path) == []


# refusals --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "namespace", ["", "FS", "fs.tools", "fs/x", "-fs", "f s", "\uff46\uff53", "fs\u200b", "a" * 64, "../fs"]
)
def test_bad_namespaces_are_refused(namespace: str) -> None:
    """Namespaces are 1-63 of a-z 0-9 - _: no dots, slashes, spaces, upper case or Unicode look-alikes."""
    with pytest.raises(ConfigError, match="invalid namespace"):
        upstream_from_mapping(stdio(namespace=namespace))


def test_unknown_keys_are_refused_everywhere(tmp_path: Path) -> None:
    """A typo at the top, in an upstream, or in a tool description is an error, not a silent default."""
    with pytest.raises(ConfigError, match="unknown key `comand`"):
        upstream_from_mapping(stdio(comand="x"))
    with pytest.raises(ConfigError, match=r"`tools\.read` takes"):
        upstream_from_mapping(stdio(tools={"read": {"efect": "read"}}))
    with pytest.raises(ConfigError, match="`default` takes"):
        upstream_from_mapping(stdio(default={"effect": "read", "name": "x"}))
    write(tmp_path, "upstreams: []\nservers: []\n")
    with pytest.raises(ConfigError, match="one key, `upstreams`"):
        load_upstreams(tmp_path)


@pytest.mark.parametrize("name", ["1ABC", "A-B", "PATH=x", "", "ÄPFEL", "a b"])
def test_bad_env_names_are_refused(name: str) -> None:
    """Environment variable names must be [A-Za-z_][A-Za-z0-9_]*; values must be strings."""
    with pytest.raises(ConfigError, match="`env` must map variable names to strings"):
        upstream_from_mapping(stdio(env={name: "v"}))


def test_non_string_env_values_and_args_are_refused() -> None:
    """An env value of 1 or an args entry that is not a string is refused (YAML types are not guessed)."""
    with pytest.raises(ConfigError, match="`env`"):
        upstream_from_mapping(stdio(env={"PORT": 1}))
    with pytest.raises(ConfigError, match="`args`"):
        upstream_from_mapping(stdio(args=["--port", 80]))


def test_transport_requirements() -> None:
    """stdio needs a command, http needs an http(s) URL, other transports are refused."""
    with pytest.raises(ConfigError, match="needs `command`"):
        upstream_from_mapping({"namespace": "fs", "transport": "stdio"})
    with pytest.raises(ConfigError, match="needs a `url`"):
        upstream_from_mapping({"namespace": "web", "url": "file:///etc/passwd"})
    with pytest.raises(ConfigError, match="transport is `stdio`, `http` or `a2a`"):
        upstream_from_mapping({"namespace": "web", "transport": "sse", "url": "http://x/sse"})


def test_duplicate_namespaces_are_refused(tmp_path: Path) -> None:
    """Two upstreams with one namespace would make tool names ambiguous."""
    write(
        tmp_path,
        "upstreams:\n- {namespace: fs, command: a}\n- {namespace: fs, url: 'http://127.0.0.1:1/mcp'}\n",
    )
    with pytest.raises(ConfigError, match="namespace appears twice"):
        load_upstreams(tmp_path)


def test_two_unprefixed_upstreams_are_refused(tmp_path: Path) -> None:
    """Only one upstream may expose its tools without the namespace prefix."""
    write(
        tmp_path,
        "upstreams:\n- {namespace: a, command: a, prefix: false}\n- {namespace: b, command: b, prefix: false}\n",
    )
    with pytest.raises(ConfigError, match="at most one upstream may set `prefix: false`"):
        load_upstreams(tmp_path)


def test_invalid_tool_description_is_refused_at_load() -> None:
    """An override with an unknown effect spelling or a bad resource_arg fails when the file is read."""
    with pytest.raises(ConfigError, match="invalid effect"):
        upstream_from_mapping(stdio(tools={"write_file": {"effect": "Write!"}}))
    with pytest.raises(ConfigError, match="resource_arg"):
        upstream_from_mapping(stdio(tools={"write_file": {"resource_arg": "a.b"}}))


# proctor_tool -----------------------------------------------------------------------------------
def test_proctor_tool_uses_default_and_overrides() -> None:
    """Undescribed tools get the default effect; a per-tool override wins field by field."""
    cfg = upstream_from_mapping(
        stdio(
            default={"effect": "read", "labels": {"trust": "untrusted"}},
            tools={"write_file": {"effect": "write", "resource_arg": "path", "resource": "/data/*"}},
        )
    )
    read = cfg.proctor_tool("read_file", "Read a file")
    assert (read.name, read.effect, read.trust, read.description) == (
        "fs.read_file",
        "read",
        "untrusted",
        "Read a file",
    )
    write_ = cfg.proctor_tool("write_file")
    assert (write_.effect, write_.resource_arg, write_.resource_pattern, write_.trust) == (
        "write",
        "path",
        "/data/*",
        "untrusted",
    )


def test_effect_defaults_to_execute() -> None:
    """With no `default`, an undescribed tool is registered as `execute`, the cautious choice."""
    cfg = upstream_from_mapping(stdio())
    assert cfg.proctor_tool("anything").effect == "execute"


@pytest.mark.parametrize(
    "upstream_tool",
    [
        "read.file",  # a dot would forge another namespace segment
        "../etc",
        "fs/read",
        "r\u0435ad_file",  # Cyrillic ie
        "read_file\u200b",  # zero-width space
        "\uff52\uff45\uff41\uff44",  # full-width "read"
        "a" * 65,
        "read file",
        "_private",
        "\u212aey",  # the Kelvin sign lowercases to an ASCII `k`
    ],
)
def test_odd_upstream_names_get_a_hashed_name_never_the_one_they_imitate(upstream_tool: str) -> None:
    """Dots, slashes, Unicode look-alikes, spaces and over-long names become an ASCII slug and a
    hash of the exact name: routable, and never equal to the plain name they look like."""
    cfg = upstream_from_mapping(stdio())
    name = cfg.proctor_tool(upstream_tool).name
    assert name == pin_name("fs", upstream_tool)
    assert re.fullmatch(r"fs\.[a-z0-9][a-z0-9_-]{0,51}-[0-9a-f]{10}", name), name
    assert name not in {"fs.read_file", "fs.read", "fs.key", "fs.etc", "fs.private"}
    assert name == cfg.proctor_tool(upstream_tool).name  # deterministic


@pytest.mark.parametrize("upstream_tool", ["", "x" * 129])
def test_unroutable_upstream_tool_names_are_refused(upstream_tool: str) -> None:
    """An empty name, or one over MCP's 128 characters, cannot become a Proctor tool."""
    cfg = upstream_from_mapping(stdio())
    with pytest.raises(ValidationError, match="cannot route"):
        cfg.proctor_tool(upstream_tool)
    with pytest.raises(ValidationError, match="cannot route"):
        pin_name("fs", upstream_tool)


@pytest.mark.parametrize("upstream_tool", ["read_file", "Read-File", "x", "A1_b2-C3", "z" * 62])
def test_pin_name_matches_registered_name(upstream_tool: str) -> None:
    """Pins are keyed by the same Proctor name the tool registry uses (lowercased, namespace prefixed)."""
    cfg = upstream_from_mapping(stdio())
    assert pin_name("fs", upstream_tool) == cfg.proctor_tool(upstream_tool).name


def test_prompt_exposed_name_follows_prefix_setting() -> None:
    """Prompts keep `namespace.prompt`, or the bare name when the upstream sets `prefix: false`."""
    assert upstream_from_mapping(stdio()).exposed_name("read_file") == "fs.read_file"
    assert upstream_from_mapping(stdio(prefix=False)).exposed_name("read_file") == "read_file"


def test_config_is_frozen() -> None:
    """An UpstreamConfig cannot be changed after it was checked."""
    cfg = UpstreamConfig(namespace="fs", transport="stdio", command="x")
    with pytest.raises(AttributeError):
        cfg.namespace = "other"  # type: ignore[misc]


def test_invalid_yaml_error_does_not_quote_the_file(tmp_path: Path) -> None:
    """A broken upstreams.yaml is reported by position only: the file may hold env values."""
    from proctor.errors import ConfigError
    from proctor.gateway.config import load_upstreams

    (tmp_path / "upstreams.yaml").write_text('upstreams:\n  - namespace: x\n    env: {TOKEN: "s3cr3t-value\n')
    with pytest.raises(ConfigError, match="line") as info:
        load_upstreams(tmp_path)
    assert "s3cr3t" not in info.value.message


@pytest.mark.parametrize(
    ("mode", "effect", "flags", "expected"),
    [
        ("auto", "read", {}, True),
        ("auto", "read", {"destructive": True}, False),
        ("auto", "read", {"financial": True}, False),
        ("auto", "read", {"customer_facing": True}, False),
        ("auto", "read", {"production": True}, False),
        ("auto", "write", {}, False),
        ("auto", "execute", {}, False),
        ("auto", "send", {}, False),
        ("auto", "pay", {}, False),
        ("auto", "deploy", {}, False),
        ("auto", "archive", {}, False),  # an effect a workspace added
        ("strict", "read", {}, False),
        ("overlap", "pay", {}, True),
        ("bogus", "read", {}, False),
    ],
)
def test_which_calls_overlap_their_audit_write(
    mode: str, effect: str, flags: dict[str, bool], expected: bool
) -> None:
    from proctor.gateway.calls import overlaps
    from proctor.store.base import ToolRecord
    from proctor.types import ToolName

    tool = ToolRecord(
        ToolName("fx.tool"),
        effect,
        destructive=flags.get("destructive", False),
        financial=flags.get("financial", False),
        customer_facing=flags.get("customer_facing", False),
        production=flags.get("production", False),
    )
    assert overlaps(mode, tool) is expected
    assert overlaps(mode, None) is (mode == "overlap")  # an unknown tool is never overlapped in auto


def test_gateway_audit_mode_defaults_to_auto_and_refuses_others(tmp_path: Path) -> None:
    from proctor.config import load_settings

    (tmp_path / "proctor.yaml").write_text("trust_domain: acme.test\n")
    assert load_settings(tmp_path / "proctor.yaml", env={}).gateway_audit == "auto"
    (tmp_path / "proctor.yaml").write_text("trust_domain: acme.test\ngateway: {audit: sometimes}\n")
    with pytest.raises(ConfigError, match=r"gateway\.audit is `auto`"):
        load_settings(tmp_path / "proctor.yaml", env={})


@pytest.mark.parametrize(
    "name",
    [
        "LD_PRELOAD", "GLIBC_TUNABLES", "JDK_JAVA_OPTIONS", "CLASSPATH", "SHELLOPTS", "PS4",
        "DOTNET_STARTUP_HOOKS", "OPENSSL_CONF", "GIT_SSH_COMMAND", "npm_config_registry",
        "NPM_CONFIG_PREFIX", "UV_INDEX_URL", "PIP_INDEX_URL", "https_proxy", "SSLKEYLOGFILE", "GOPROXY",
    ],
)  # fmt: skip
def test_a_credential_may_not_set_what_changes_what_a_process_runs(name: str) -> None:
    """ADR 0010: a credential's environment may not change what a tool process runs, downloads, or
    where its traffic and TLS secrets go (the list had gaps: npm_config_*, GLIBC_TUNABLES, ...)."""
    from proctor.gateway.credentials import reserved_env

    assert reserved_env(name)


@pytest.mark.parametrize(
    "name", ["DATABASE_URL", "GITHUB_TOKEN", "GOOGLE_API_KEY", "OPENAI_API_KEY", "PGPASSWORD"]
)
def test_ordinary_credential_variables_are_allowed(name: str) -> None:
    from proctor.gateway.credentials import reserved_env

    assert not reserved_env(name)


# exposed tool names (docs/adr/0014) ------------------------------------------------------------
CLIENT_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # Claude Desktop's check, verbatim


def test_exposed_names_use_the_separator_and_keep_plain_spellings() -> None:
    """`fs__read_text_file` for Proctor tool `fs.read_text_file`; the upstream's case is kept; the
    unprefixed upstream's tools are bare; a custom separator is used as given."""
    assert exposed_name("fs", "read_text_file", "__") == "fs__read_text_file"
    assert exposed_name("gh", "createIssue", "__") == "gh__createIssue"
    assert canonical_name("gh", "createIssue") == "gh.createissue"
    assert exposed_name("fs", "read_text_file", "__", prefix=False) == "read_text_file"
    assert exposed_name("fs", "read_text_file", "-x-") == "fs-x-read_text_file"
    odd = exposed_name("fs", "get.weather", "__")
    assert re.fullmatch(r"fs__get_weather-[0-9a-f]{10}", odd)
    assert odd.replace("__", ".", 1) == canonical_name("fs", "get.weather")


def test_long_names_are_shortened_to_64_and_kept_apart() -> None:
    """Over 64 characters: the first 53, `-` and 10 hex of the canonical name's SHA-256; two long
    names with a common start still differ; the namespace and separator survive."""
    a, b = "x" * 60 + "_alpha", "x" * 60 + "_beta"
    ea, eb = exposed_name("fs", a, "__"), exposed_name("fs", b, "__")
    assert len(ea) == len(eb) == 64
    assert ea != eb
    assert ea.startswith("fs__xxx")
    assert CLIENT_NAME.match(ea)
    table = name_table("fs", [a, b], "__")
    assert table.upstream == {ea: a, eb: b}
    longest_ns = "n" * (names.MAX_PREFIX - 2)
    assert exposed_name(longest_ns, "y" * 100, "__").startswith(longest_ns + "__y")


def test_shortening_is_the_same_in_another_process() -> None:
    """The hashes are SHA-256, not Python's salted hash(): another interpreter (another hash seed)
    computes the same exposed and canonical names."""
    odd = ["z" * 90, "r\u0435ad file/\u00e9", "a.b.c"]
    here = [(exposed_name("fs", n, "__"), canonical_name("fs", n)) for n in odd]
    code = (
        "import json,sys;from proctor.gateway.names import exposed_name as e, canonical_name as c;"
        "print(json.dumps([[e('fs',n,'__'),c('fs',n)] for n in json.loads(sys.argv[1])]))"
    )
    import json

    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    there = subprocess.run(
        [sys.executable, "-c", code, json.dumps(odd)], capture_output=True, text=True, env=env, check=True
    )
    assert [tuple(x) for x in json.loads(there.stdout)] == here


def test_colliding_names_are_hidden_both_with_a_reason() -> None:
    """A literal name equal to another tool's hashed name, two names differing only in case, and an
    unprefixed tool whose name reads as another namespace's are all hidden, with why."""
    hashed = canonical_part("get.weather")
    table = name_table("fs", ["get.weather", hashed, "Dup!", "dup!", "ok"], "__")
    assert set(table.upstream.values()) == {"ok"}
    assert set(table.hidden) == {"get.weather", hashed, "Dup!", "dup!"}
    assert "same Proctor name" in table.hidden[hashed]
    long = "y" * 100
    shortened = exposed_name("fs", long, "__")
    squat = shortened.removeprefix("fs__")  # a plain name whose exposed name is the shortened one
    assert canonical_name("fs", squat) != canonical_name("fs", long)
    clash = name_table("fs", [long, squat, "ok"], "__")
    assert set(clash.upstream.values()) == {"ok"}
    assert "same exposed name" in clash.hidden[long]
    assert "same exposed name" in clash.hidden[squat]
    bare = name_table("misc", ["fs__read", "read"], "__", prefix=False, reserved={"fs"})
    assert bare.upstream == {"read": "read"}
    assert "upstream `fs`" in bare.hidden["fs__read"]


@pytest.mark.parametrize("sep", ["", ".", "::", "a b", "_____", "é"])
def test_bad_separators_are_refused(tmp_path: Path, sep: str) -> None:
    """`gateway.tool_separator` must itself be 1-4 characters of the client alphabet."""
    from proctor.config import load_settings

    (tmp_path / "proctor.yaml").write_text(f"trust_domain: acme.test\ngateway: {{tool_separator: '{sep}'}}\n")
    with pytest.raises(ConfigError, match="tool separator"):
        load_settings(tmp_path / "proctor.yaml", env={})


def test_separator_defaults_to_double_underscore(tmp_path: Path) -> None:
    from proctor.config import load_settings

    (tmp_path / "proctor.yaml").write_text("trust_domain: acme.test\n")
    assert load_settings(tmp_path / "proctor.yaml", env={}).gateway_tool_separator == "__"
    (tmp_path / "proctor.yaml").write_text("trust_domain: acme.test\ngateway: {tool_separator: '-'}\n")
    assert load_settings(tmp_path / "proctor.yaml", env={}).gateway_tool_separator == "-"


@pytest.mark.parametrize(
    ("namespace", "sep"),
    [("my__ns", "__"), ("ns_", "__"), ("a-b", "-"), ("x" * 51, "__"), ("ab", "b"), ("xab", "aba")],
)
def test_namespaces_that_would_make_names_ambiguous_are_refused(namespace: str, sep: str) -> None:
    """The first separator of an exposed name must end its namespace, and the namespace must
    survive shortening."""
    with pytest.raises(ValidationError):
        check_namespace(namespace, sep)


def test_namespaces_that_split_cleanly_are_accepted() -> None:
    for ns, sep in [("fs", "__"), ("my_ns", "__"), ("a-b", "__"), ("x" * 50, "__"), ("fs", "-")]:
        assert check_namespace(ns, sep) == ns


_NAMESPACES = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True)
_UPSTREAM_NAMES = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{1,70}", fullmatch=True),
    st.text(min_size=1, max_size=130),
    st.text(alphabet="aA_-.", min_size=1, max_size=80),
    st.text(alphabet="xX0", min_size=55, max_size=75),  # long names sharing their first 53 characters
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    namespaces=st.lists(_NAMESPACES, min_size=1, max_size=4, unique=True),
    listed=st.lists(_UPSTREAM_NAMES, max_size=12),
    sep=st.sampled_from(["__", "-", "_x_", "Z"]),
    unprefixed=st.booleans(),
)
def test_exposed_names_are_client_safe_unique_and_map_back(
    namespaces: list[str], listed: list[str], sep: str, unprefixed: bool
) -> None:
    """For random upstreams and listings: every exposed name matches the client pattern, no two tools
    (of any upstream) share one, each resolves — through the namespace split and that upstream's
    table, as the gateway does — to exactly its upstream name and canonical name, and nothing is
    hidden but names that really collide."""
    namespaces = [ns for ns in namespaces if _splits(ns, sep)]
    assume(namespaces)
    prefixed = set(namespaces[1:] if unprefixed else namespaces)
    tables = {ns: name_table(ns, listed, sep, prefix=ns in prefixed, reserved=prefixed) for ns in namespaces}
    seen: dict[str, tuple[str, str]] = {}
    for ns, table in tables.items():
        for upstream_tool, exposed in table.exposed.items():
            assert CLIENT_NAME.match(exposed), exposed
            assert exposed not in seen, (exposed, seen[exposed], ns)
            seen[exposed] = (ns, upstream_tool)
            assert table.canonical[upstream_tool] == canonical_name(ns, upstream_tool)
            assert ToolName(table.canonical[upstream_tool])  # a valid Proctor tool name
    for exposed, (ns, upstream_tool) in seen.items():
        parts = split(exposed, sep)
        owner = parts[0] if parts is not None and parts[0] in prefixed else None
        if owner is None:
            owner = next(n for n in namespaces if n not in prefixed)
        assert owner == ns
        assert tables[owner].upstream[exposed] == upstream_tool
    for ns, table in tables.items():  # hidden only for a reason that holds
        for u, why in table.hidden.items():
            if "empty or longer" in why:
                assert not routable(u)
            elif "would name a tool of upstream" in why:  # (its text says "exposed name" too)
                assert ns not in prefixed
            elif "Proctor name" in why:
                assert sum(canonical_name(ns, v) == canonical_name(ns, u) for v in set(listed)) > 1
            elif "but for case" in why:
                assert sum(v.lower() == u.lower() for v in set(listed) if routable(v)) > 1
            elif "exposed name" in why:
                e = exposed_name(ns, u, sep, prefix=ns in prefixed)
                assert (
                    sum(
                        exposed_name(ns, v, sep, prefix=ns in prefixed) == e
                        for v in set(listed)
                        if routable(v)
                    )
                    > 1
                )
            else:
                assert ns not in prefixed


def _splits(ns: str, sep: str) -> bool:
    try:
        check_namespace(ns, sep)
    except ValidationError:
        return False
    return True


def test_upstreams_file_that_is_a_fifo_or_oversized_is_refused_without_blocking(tmp_path: Path) -> None:
    """The running gateway re-reads `upstreams.yaml` on its event loop: a FIFO in its place must be
    refused at once (not block the gateway for good), an oversized file refused unread."""
    import os
    import threading

    from proctor.errors import ConfigError
    from proctor.gateway.config import MAX_UPSTREAMS_BYTES, load_upstreams

    fifo = tmp_path / "upstreams.yaml"
    os.mkfifo(fifo)
    outcome: list[BaseException | object] = []

    def load() -> None:
        try:
            outcome.append(load_upstreams(tmp_path))
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(20)  # a guard against hanging the suite, not a performance bound
    if reader.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # release the blocked reader
        reader.join(20)
        pytest.fail("reading upstreams.yaml blocked on a FIFO")
    assert isinstance(outcome[0], ConfigError), outcome
    fifo.unlink()
    fifo.write_bytes(b"#" * (MAX_UPSTREAMS_BYTES + 1))
    with pytest.raises(ConfigError, match="larger than"):
        load_upstreams(tmp_path)


def test_proctor_tool_carries_the_upstream_input_schema() -> None:
    """The MCP tool's inputSchema becomes the registration's (canonical JSON): policies read its
    arguments typed. The configuration's own `input_schema` wins; one too large is dropped."""
    schema = {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}
    cfg = upstream_from_mapping(
        stdio(tools={"write_file": {"effect": "write", "input_schema": {"type": "object", "properties": {}}}})
    )
    read = cfg.proctor_tool("read_file", "Read a file", schema)
    assert (
        read.input_schema == '{"properties":{"path":{"type":"string"}},"required":["path"],"type":"object"}'
    )
    assert cfg.proctor_tool("write_file", "", schema).input_schema == '{"properties":{},"type":"object"}'
    huge = {"type": "object", "description": "x" * 70_000}
    assert cfg.proctor_tool("read_file", "", huge).input_schema is None
    assert cfg.proctor_tool("read_file").input_schema is None


def test_max_answer_bytes_is_checked_and_kept() -> None:
    """`max_answer_bytes`: whole bytes from 1 KiB to the lean transport's 16 MiB ceiling (its
    default); kept through save and load."""
    from proctor.gateway.config import DEFAULT_MAX_ANSWER_BYTES
    from proctor.gateway.http1 import MAX_RESPONSE_BYTES

    base = {"namespace": "h", "url": "http://127.0.0.1:9/mcp"}
    assert upstream_from_mapping(base).max_answer_bytes == DEFAULT_MAX_ANSWER_BYTES == MAX_RESPONSE_BYTES
    cfg = upstream_from_mapping({**base, "max_answer_bytes": 65536})
    assert cfg.max_answer_bytes == 65536
    assert upstream_from_mapping(cfg.to_mapping()) == cfg
    for bad in (1023, MAX_RESPONSE_BYTES + 1, "1MB", 4096.0, True):
        with pytest.raises(ConfigError, match="max_answer_bytes"):
            upstream_from_mapping({**base, "max_answer_bytes": bad})
