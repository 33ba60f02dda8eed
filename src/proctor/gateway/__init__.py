"""The MCP gateway: an MCP server to agents, an MCP client to the real tool servers behind it."""

__all__: list[str] = []
