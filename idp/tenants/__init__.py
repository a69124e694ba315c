"""Tenant policy: two-step verification, access route, plans and roles."""
