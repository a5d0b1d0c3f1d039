"""The stack under test: compose project lifecycle, topology, readiness."""
