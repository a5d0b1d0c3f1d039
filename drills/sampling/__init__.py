"""Observers that watch the system under test while a drill runs and record what they see as
history events (they act on nothing)."""
