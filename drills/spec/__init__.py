"""The building blocks of scenario models: durations, numbers, roles, the base model (`types`), and an
expectation's declared assumptions (`assumptions`).
"""
