"""REST API under /api/v1: one APIRouter module per area (same shapes as the CLI's --json)."""
