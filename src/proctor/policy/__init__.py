"""Policy: the Cedar schema, policy sets and their versions, and the decision point."""

from proctor.policy.engine import Decision, PolicyEngine, PolicyWatcher
from proctor.policy.loader import PolicySet, compile_policies, load_policy_dir
from proctor.policy.scope import ScopeVerdict

__all__ = [
    "Decision",
    "PolicyEngine",
    "PolicySet",
    "PolicyWatcher",
    "ScopeVerdict",
    "compile_policies",
    "load_policy_dir",
]
