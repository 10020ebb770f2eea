"""Agents other than the built-in one: the workbench they share, the LLM planner, external agents."""
