"""Notifications out: ticket transitions to webhooks (generic, Slack, ServiceNow, Jira shapes)."""
