"""The ground every layer stands on: errors, the history's format and its typed events, the state
directory, Docker labels, the role grammar, interrupts, YAML locations, the registries' discovery
rule.
"""
