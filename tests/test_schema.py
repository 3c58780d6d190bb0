"""The lesson JSON Schema: printed by `quizkit schema`, committed for editors, true to the loader."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from quizkit.cli import main
from quizkit.lesson_schema import json_schema

ROOT = Path(__file__).resolve().parent.parent
COMMITTED_SCHEMA = ROOT / "quizkit" / "lesson.schema.json"
LESSON3 = ROOT / "exercises" / "lesson3" / "lesson.yaml"


class _Yaml12Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` reading numbers as YAML 1.2 does (``1e-3`` is a float, as in editors)."""


_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$"),
    list("-+0123456789."),
)


def _load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Yaml12Loader)


def _schema_errors(instance: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """A small JSON Schema validator for the keywords quizkit's schema uses; returns the violations."""
    errors: list[str] = []
    kind = schema.get("type")
    type_checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "integer": lambda v: (
            (isinstance(v, int) and not isinstance(v, bool))
            or (isinstance(v, float) and math.isfinite(v) and v.is_integer())
        ),
        "boolean": lambda v: isinstance(v, bool),
    }
    if kind is not None and not type_checks[kind](instance):
        return [f"{where}: expected {kind}, found {instance!r}"]
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{where}: {instance!r} is not one of {schema['enum']}")
    if isinstance(instance, str):
        if len(instance) < schema.get("minLength", 0):
            errors.append(f"{where}: shorter than {schema['minLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], instance):
            errors.append(f"{where}: {instance!r} does not match {schema['pattern']}")
    if isinstance(instance, (int, float)) and not isinstance(instance, bool):
        if "minimum" in schema and instance < schema["minimum"]:
            errors.append(f"{where}: below {schema['minimum']}")
        if "maximum" in schema and instance > schema["maximum"]:
            errors.append(f"{where}: above {schema['maximum']}")
        if "exclusiveMinimum" in schema and instance <= schema["exclusiveMinimum"]:
            errors.append(f"{where}: not above {schema['exclusiveMinimum']}")
    if isinstance(instance, list):
        if len(instance) < schema.get("minItems", 0):
            errors.append(f"{where}: fewer than {schema['minItems']} items")
        for index, item in enumerate(instance):
            if "items" in schema:
                errors += _schema_errors(item, schema["items"], f"{where}[{index}]")
    if isinstance(instance, dict):
        errors += _object_errors(instance, schema, where)
    if "anyOf" in schema and not any(not _schema_errors(instance, option, where) for option in schema["anyOf"]):
        errors.append(f"{where}: matches none of anyOf")
    if "oneOf" in schema:
        matches = sum(not _schema_errors(instance, option, where) for option in schema["oneOf"])
        if matches != 1:
            errors.append(f"{where}: matches {matches} of oneOf, not exactly one")
    return errors


def _object_errors(instance: dict[str, Any], schema: dict[str, Any], where: str) -> list[str]:
    errors = [f"{where}: missing {key!r}" for key in schema.get("required", []) if key not in instance]
    if len(instance) < schema.get("minProperties", 0):
        errors.append(f"{where}: fewer than {schema['minProperties']} entries")
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, value in instance.items():
        if "propertyNames" in schema:
            errors += _schema_errors(key, schema["propertyNames"], f"{where}.{key} (name)")
        if key in properties:
            errors += _schema_errors(value, properties[key], f"{where}.{key}")
        elif extra is False:
            errors.append(f"{where}: unexpected key {key!r}")
        elif isinstance(extra, dict):
            errors += _schema_errors(value, extra, f"{where}.{key}")
    return errors


def test_schema_command_prints_the_schema_the_loader_is_built_from() -> None:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.output) == json_schema()


def test_committed_schema_file_matches_the_loader() -> None:
    expected = json.dumps(json_schema(), indent=2) + "\n"
    assert COMMITTED_SCHEMA.read_text(encoding="utf-8") == expected, (
        "quizkit/lesson.schema.json is out of date: run `quizkit schema > quizkit/lesson.schema.json`"
    )


def test_lesson_files_point_editors_at_the_committed_schema() -> None:
    first_line = LESSON3.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../../quizkit/lesson.schema.json"
    assert (LESSON3.parent / "../../quizkit/lesson.schema.json").resolve() == COMMITTED_SCHEMA


def test_schema_rejects_unknown_keys_everywhere() -> None:
    schema = json_schema()
    assert schema["additionalProperties"] is False
    exercise = schema["properties"]["exercises"]["items"]
    assert exercise["additionalProperties"] is False
    assert all(
        variant["additionalProperties"] is False for variant in schema["properties"]["questions"]["items"]["oneOf"]
    )


def test_lesson3_is_valid_under_the_schema() -> None:
    assert _schema_errors(_load_yaml(LESSON3), json_schema()) == []


def test_the_schema_check_reports_a_typo_in_a_lesson() -> None:
    lesson = _load_yaml(LESSON3)
    lesson["questions"][0]["hint"] = ["a typo for hints"]
    errors = _schema_errors(lesson, json_schema())
    assert errors and all(error.startswith("$.questions[0]") for error in errors)


def test_lesson3_is_valid_for_the_jsonschema_package() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft7Validator.check_schema(json_schema())
    jsonschema.validate(_load_yaml(LESSON3), json_schema(), cls=jsonschema.Draft7Validator)
