"""The signal kinds: one module each, holding `KIND = SignalKind(...)` (`drills.workload.signal`).

The registry (`drills.workload.registry`) lists this package: a module added here is a signal of
the schema, of `drill validate` and of the workload, with nothing else to edit. A module names its
kind after itself (postgres_write.py: postgres.write) and imports its driver only inside `build`.
"""
