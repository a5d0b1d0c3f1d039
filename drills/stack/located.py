"""A stack file's mistake found across fields, with the path of the field to fix."""

from __future__ import annotations


class AtField(ValueError):
    """A mistake found across fields, with the path of the field it is about (under the model that
    raised it): pydantic locates a model validator's error at the model itself, and `drill validate`
    must point at the line to fix (drills.files.stack_file reads `where`)."""

    def __init__(self, where: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.where = where
