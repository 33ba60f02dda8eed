"""``proctor.sdk`` for agent frameworks: each module imports its framework only when used
(``pip install 'proctor[adapters]'``).

- :mod:`proctor.sdk.adapters.openai_agents`: OpenAI Agents SDK function tools;
- :mod:`proctor.sdk.adapters.langchain`: LangChain tools (LangGraph's ``ToolNode``, agents), and
  any existing LangChain tool (one loaded from an MCP server included) wrapped as it is;
- :mod:`proctor.sdk.adapters.pydantic_ai`: Pydantic AI tools.

A refused call becomes the tool failure the framework shows its model (the run goes on); a call
held for approval waits up to the guard's ``hold_s``, then fails the same way naming the request
and its page (the identical call may be retried).
"""

__all__: list[str] = []
