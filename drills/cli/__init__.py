"""The `drill` command line: one module per command group (`main` is the group and its small commands),
and the pytest plugin.
"""
