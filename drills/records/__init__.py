"""What a run writes: its journal, JUnit file, sealed evidence manifest, and the result the runner
returns.
"""
