"""Signals in from the tools a NOC runs: Alertmanager webhooks, syslog, SNMP traps."""
