"""Tickets: the ITSM in DuckDB (lifecycle, work notes, escalations)."""

from netops_agent.tickets.service import STATES, TicketService

__all__ = ["STATES", "TicketService"]
