"""The ground every layer stands on: errors, the history's format and its typed events, the state
directory, Docker labels, the role grammar, interrupts, YAML locations, the registries' discovery
rule, wait strategies, and the record of the configuration read back from a stack (with the facts an
assumption may name of it).
"""
