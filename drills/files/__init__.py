"""The files a user writes, read and validated with located errors: scenarios, explorations, stack
files.
"""
