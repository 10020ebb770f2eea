"""The MCP server (`netops-agent mcp`): the workbench over the Model Context Protocol."""
