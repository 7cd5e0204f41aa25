"""Contracts shared by every Jembatan service: events, messaging, persistence helpers.

Nothing here imports a service.
"""
