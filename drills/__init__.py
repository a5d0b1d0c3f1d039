"""Drills: chaos-testing and disaster-recovery drills against a real HA stack.

The package is deliberately light to import: heavy libraries (docker, psycopg, pymongo, pika,
pydantic, rich) are imported by the modules that use them, so `drill --help` starts fast.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
