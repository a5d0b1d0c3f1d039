"""drills.core.yaml_locate on a model that is not a scenario: it is generic."""

import io
from typing import Annotated, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML

from drills.core.yaml_locate import Problem, field_path, locate, problem_at, suggest, to_plain, walk


class Cat(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["cat"]
    lives: int = 9


class Dog(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["dog"]
    barks: bool = True


class Home(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    pets: list[Annotated[Cat | Dog, Field(discriminator="kind")]]


TEXT = """\
name: home
pets:
  - kind: cat
  - kind: dog
    barks: loudly
"""


def load(text: str):
    return YAML(typ="rt").load(io.StringIO(text))


def test_an_error_inside_a_tagged_union_is_shown_where_the_file_has_it():
    root = load(TEXT)
    with pytest.raises(ValidationError) as caught:
        Home.model_validate(to_plain(root))
    [err] = caught.value.errors()
    assert err["loc"] == ("pets", 1, "dog", "barks")  # pydantic's path holds the tag
    loc, tp = walk(Home, tuple(err["loc"]), ("kind",))
    assert loc == ("pets", 1, "barks") and tp is bool
    assert str(problem_at("home.yaml", root, loc, "must be a boolean")) == \
        "home.yaml:5:12: pets[1].barks: must be a boolean"


def test_an_unknown_key_is_shown_at_the_key_with_the_closest_name():
    root = load("name: home\npets: []\nnmae: x\n")
    assert locate(root, ("nmae",), at_key=True) == (2, 0)
    assert suggest("nmae", ["name", "pets"]) == "; did you mean 'name'?"
    assert suggest("zzz", ["name", "pets"]) == ""


def test_a_key_merged_in_is_shown_where_it_is_written():
    root = load("base: &b\n  lives: 3\npet:\n  <<: *b\n  kind: cat\n")
    assert locate(root, ("pet", "lives")) == (1, 9)


@given(st.lists(st.text("abc", min_size=1, max_size=3), min_size=1, max_size=4, unique=True))
def test_locate_finds_every_value_of_a_nested_mapping(keys):
    # keys[0]: keys[1]: ... : 1, one key per line, each nested two spaces further
    text = "".join(f"{'  ' * depth}{key}:\n" for depth, key in enumerate(keys[:-1]))
    text += f"{'  ' * (len(keys) - 1)}{keys[-1]}: 1\n"
    root = load(text)
    assert locate(root, tuple(keys)) == (len(keys) - 1, 2 * (len(keys) - 1) + len(keys[-1]) + 2)
    assert to_plain(root) == _nested(keys)
    assert field_path(tuple(keys)) == ".".join(keys)


def _nested(keys):
    return {keys[0]: 1} if len(keys) == 1 else {keys[0]: _nested(keys[1:])}


def test_problems_sort_by_file_then_position():
    found = sorted([Problem("b", 1, 1, "", "x"), Problem("a", 2, 1, "f", "y"), Problem("a", 1, 5, "g", "z")])
    assert [(p.file, p.line) for p in found] == [("a", 1), ("a", 2), ("b", 1)]
    assert str(found[2]) == "b:1:1: x"
