"""@frozen: immutable data classes, as a frozen dataclass is, at a fraction of the cost to define."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, field, fields, replace

import pytest

from quizkit.model import frozen


@frozen
class Point:
    """A point."""

    x: float
    y: float = 0.0
    tags: tuple[str, ...] = field(default=())


@frozen
class Labelled(Point):
    """A point with a label, normalised after construction."""

    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", self.label.strip())


def test_fields_are_set_by_the_constructor_and_shown_by_repr() -> None:
    point = Point(1.0, tags=("a",))
    assert (point.x, point.y, point.tags) == (1.0, 0.0, ("a",))
    assert repr(point) == "Point(x=1.0, y=0.0, tags=('a',))"
    assert [f.name for f in fields(point)] == ["x", "y", "tags"]


def test_a_field_cannot_be_assigned_again() -> None:
    point = Point(1.0)
    with pytest.raises(FrozenInstanceError):
        point.x = 2.0  # type: ignore[misc]
    assert point.x == 1.0


def test_a_field_cannot_be_deleted() -> None:
    point = Point(1.0)
    with pytest.raises(FrozenInstanceError):
        del point.x  # type: ignore[misc]


def test_replace_makes_a_new_object_and_leaves_the_old_one() -> None:
    point = Point(1.0)
    moved = replace(point, y=5.0)
    assert (moved.x, moved.y) == (1.0, 5.0) and point.y == 0.0


def test_subclasses_are_immutable_and_may_normalise_in_post_init() -> None:
    labelled = Labelled(1.0, label="  here ")
    assert labelled.label == "here"
    with pytest.raises(FrozenInstanceError):
        labelled.label = "there"  # type: ignore[misc]


def test_objects_compare_by_identity() -> None:
    point = Point(1.0)
    assert point == point and point != Point(1.0)
    assert len({point, Point(1.0)}) == 2


@frozen(eq=True)
class Pair:
    """A value object: equal when its fields are."""

    left: int
    right: tuple[int, ...] = ()


def test_eq_true_compares_and_hashes_by_value_as_a_frozen_dataclass_does() -> None:
    assert Pair(1, (2,)) == Pair(1, (2,)) and Pair(1) != Pair(2)
    assert hash(Pair(1, (2,))) == hash(Pair(1, (2,))) == hash((1, (2,)))
    assert len({Pair(1), Pair(1), Pair(2)}) == 2
    with pytest.raises(FrozenInstanceError):
        Pair(1).left = 2  # type: ignore[misc]


@frozen
class Basket:
    """A field with a default factory."""

    owner: str
    items: list[str] = field(default_factory=list)


def test_the_constructor_takes_fields_in_order_by_name_and_with_defaults_as_a_dataclass_does() -> None:
    point = Point(y=2.0, x=1.0)
    assert (point.x, point.y, point.tags) == (1.0, 2.0, ())
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1.0, 2.0, (), "extra")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1.0, z=3.0)  # type: ignore[call-arg]


def test_a_default_factory_makes_a_fresh_value_for_each_object() -> None:
    first, second = Basket("a"), Basket("b")
    assert first.items == [] and first.items is not second.items
    assert Basket("c", ["x"]).items == ["x"]


def test_fields_that_are_not_plain_constructor_arguments_are_refused_when_the_class_is_defined() -> None:
    with pytest.raises(TypeError, match="positional __init__ argument"):

        @frozen
        class Hidden:
            shown: int
            hidden: int = field(default=0, init=False)

    with pytest.raises(TypeError, match="positional __init__ argument"):

        @frozen
        class KeywordOnly:
            name: str = field(default="", kw_only=True)
