"""Jembatan's services. Each owns its data and talks to the others only through shared/."""
