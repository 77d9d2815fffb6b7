"""The catalog's schema, written once as JSON Schema: exported for editors and enforced when loading."""

from __future__ import annotations

import re
from typing import Any, Iterable

from banditmap.catalog.yamlio import Document, PathKey
from banditmap.errors import shown

Schema = dict[str, Any]

ID = {"type": "string", "pattern": r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"}
TRAIT_ID = {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"}
TEXT = {"type": "string", "minLength": 1}
NUMBER_OR_NULL = {"type": ["number", "null"]}
CONDITION = {"type": "object", "additionalProperties": {"type": "array", "items": TEXT, "minItems": 1}}
NONE_KNOWN = "none known"
VERSION = r"^\d+(\.\d+)*$"
BOUND = {"type": "object", "additionalProperties": False,
         "properties": {"min": {"type": "number"}, "max": {"type": "number"}, "at_most": TRAIT_ID}}

TRAITS_SCHEMA: Schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "banditmap trait vocabulary (catalog/traits.yaml)",
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "groups", "traits"],
    "properties": {
        "version": {"const": 1},
        "groups": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["id", "title"],
            "properties": {"id": TRAIT_ID, "title": TEXT, "source": TEXT}}},
        "traits": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "group", "kind", "question", "help"],
            "properties": {
                "id": TRAIT_ID, "group": TRAIT_ID, "kind": {"enum": ["choice", "number"]},
                "question": TEXT, "help": TEXT, "source": TEXT,
                "values": {"type": "array", "minItems": 2, "items": {
                    "type": "object", "additionalProperties": False, "required": ["id", "meaning"],
                    "properties": {"id": TRAIT_ID, "meaning": TEXT, "source": TEXT, "exit": TEXT,
                                   "frontier": TEXT, "partly": {"type": "array", "items": TRAIT_ID}}}},
                "default": {"type": ["string", "number", "null"]},
                "ask_if": CONDITION,
                "unstated": {"anyOf": [{"const": "any"}, {"type": "array", "minItems": 1, "items": TEXT}]},
                "min": {"type": "number"}, "max": {"type": "number"}, "integer": {"type": "boolean"},
            }}},
        "capabilities": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["id", "meaning"],
            "properties": {"id": ID, "meaning": TEXT}}},
        "rules": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["when", "require", "why"],
            "properties": {
                "when": CONDITION,
                "require": {"type": "object", "minProperties": 1,
                            "additionalProperties": {"anyOf": [{"type": "array", "items": TEXT}, BOUND]}},
                "why": TEXT}}},
    },
}

REFERENCE = {
    "type": "object", "additionalProperties": False, "required": ["authors", "year", "title", "venue"],
    "anyOf": [{"required": ["doi"]}, {"required": ["arxiv"]}, {"required": ["url"]}],
    "properties": {
        "authors": {"type": "array", "minItems": 1, "items": TEXT},
        "year": {"type": "integer", "minimum": 1900, "maximum": 2100},
        "title": TEXT, "venue": TEXT,
        "doi": {"type": "string", "pattern": r"^10\.\d{4,9}/\S+$"},
        "arxiv": {"type": "string", "pattern": r"^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})$"},
        "url": {"type": "string", "pattern": r"^https://[a-z0-9.-]+\.[a-z]{2,}/\S*$"},
    },
}


def _value_list(values: Iterable[str]) -> Schema:
    return {"anyOf": [{"const": "any"},
                      {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": list(values)}}]}


def algorithm_schema(choice_traits: dict[str, tuple[str, ...]], number_traits: Iterable[str],
                     required: Iterable[str] | None = None, capabilities: Iterable[str] = ("policy",)) -> Schema:
    """Schema of an algorithm file; the trait vocabulary fixes which keys and values `handles` may hold, and
    which traits it must state (`required`: those without an `unstated` default)."""
    handles = {"type": "object", "additionalProperties": False,
               "required": list(choice_traits if required is None else required),
               "properties": {t: _value_list(v) for t, v in choice_traits.items()}}
    prefers = {"type": "object", "additionalProperties": False,
               "properties": {t: _value_list(v) for t, v in choice_traits.items()}}
    suits = {"type": "object", "additionalProperties": False, "properties": {t: BOUND for t in number_traits}}
    entry = {
        "type": "object", "additionalProperties": False,
        "required": ["id", "name", "family", "summary", "maturity", "handles", "references",
                     "hyperparameters", "cost", "implementations", "caveats", "simulator"],
        "properties": {
            "id": ID, "name": TEXT, "family": ID, "summary": TEXT,
            "maturity": {"enum": ["production", "studied", "research"]},
            "handles": handles, "prefers": prefers, "suits": suits,
            "references": {"type": "array", "minItems": 1, "items": REFERENCE},
            "hyperparameters": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["name", "default", "meaning"],
                "properties": {"name": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"},
                               "default": {"type": ["number", "string", "boolean", "null"]},
                               "meaning": TEXT}}},
            "cost": {"type": "object", "additionalProperties": False, "required": ["decision", "memory"],
                     "properties": {"decision": TEXT, "memory": TEXT}},
            "implementations": {"anyOf": [{"const": NONE_KNOWN}, {"type": "array", "minItems": 1, "items": {
                "type": "object", "additionalProperties": False,
                "required": ["library", "name", "version", "grade"],
                "properties": {"library": TEXT, "name": TEXT, "version": {"type": "string", "pattern": VERSION},
                               "grade": {"enum": ["production", "reference"]}}}}]},
            "caveats": {"type": "array", "items": TEXT},
            "simulator": {"type": ["string", "null"]},
            "why": {"type": "object", "additionalProperties": False,
                    "properties": {t: TEXT for t in choice_traits}},
            "provides": capability_list(capabilities),
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "banditmap algorithm file (catalog/algorithms/*.yaml)",
        "type": "object", "additionalProperties": False, "required": ["algorithms"],
        "properties": {"algorithms": {"type": "array", "minItems": 1, "items": entry}},
    }


def capability_list(capabilities: Iterable[str]) -> Schema:
    return {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": list(capabilities)}}


def adapter_schema(choice_traits: dict[str, tuple[str, ...]], capabilities: Iterable[str]) -> Schema:
    """Schema of an adapter file: a reduction that lifts a base algorithm to values of traits it cannot serve."""
    entry_schema = algorithm_schema(choice_traits, ())["properties"]["algorithms"]["items"]["properties"]
    lift = {t: {"type": "object", "additionalProperties": False, "required": ["base", "gives"],
                "properties": {"base": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": list(v)}},
                               "gives": {"type": "array", "minItems": 1, "uniqueItems": True,
                                         "items": {"enum": list(v)}}}}
            for t, v in choice_traits.items()}
    entry = {
        "type": "object", "additionalProperties": False,
        "required": ["id", "name", "summary", "lifts", "requires", "why", "references", "cost", "implementations",
                     "caveats", "simulator"],
        "properties": {
            "id": ID, "name": TEXT, "summary": TEXT,
            "lifts": {"type": "object", "minProperties": 1, "additionalProperties": False, "properties": lift},
            "restricts": {"type": "object", "additionalProperties": False,
                          "properties": {t: _value_list(v) for t, v in choice_traits.items()}},
            "requires": capability_list(capabilities),
            "keeps": {"type": "array", "uniqueItems": True, "items": {"enum": list(capabilities)}},
            "penalty": {"type": "number", "minimum": 0, "maximum": 20},
            "why": entry_schema["why"],
            "references": entry_schema["references"],
            "cost": entry_schema["cost"],
            "implementations": entry_schema["implementations"],
            "caveats": entry_schema["caveats"],
            "simulator": entry_schema["simulator"],
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "banditmap adapter file (catalog/adapters/*.yaml)",
        "type": "object", "additionalProperties": False, "required": ["adapters"],
        "properties": {"adapters": {"type": "array", "minItems": 1, "items": entry}},
    }


def profile_schema(choice_traits: dict[str, tuple[str, ...]], number_traits: dict[str, tuple[float | None, float | None]]) -> Schema:
    """Schema of the `answers` of a profile or use case."""
    props: dict[str, Schema] = {t: {"enum": list(v)} for t, v in choice_traits.items()}
    for t, (lo, hi) in number_traits.items():
        spec: Schema = {"type": "number"}
        if lo is not None:
            spec["minimum"] = lo
        if hi is not None:
            spec["maximum"] = hi
        props[t] = spec
    return {"type": "object", "additionalProperties": False, "properties": props}


def usecase_schema(answers: Schema) -> Schema:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "banditmap use case (catalog/usecases/*.yaml)",
        "type": "object", "additionalProperties": False, "required": ["id", "name", "description", "profile"],
        "properties": {"id": ID, "name": TEXT, "description": TEXT, "profile": answers},
    }


# --- validation -----------------------------------------------------------------------------------------------

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def problems(value: Any, schema: Schema, path: PathKey = ()) -> list[tuple[PathKey, str]]:
    """Every way `value` breaks `schema`, as (path, what was expected) pairs; empty when it conforms."""
    if "anyOf" in schema:
        options = [problems(value, option, path) for option in schema["anyOf"]]
        if all(options):
            deepest = max(options, key=lambda found: max(len(p) for p, _ in found))
            if max(len(p) for p, _ in deepest) > len(path):
                return deepest
            return [(path, " or ".join(_expectation(o) for o in schema["anyOf"]) + f", got {_describe(value)}")]
    if "const" in schema and value != schema["const"]:
        return [(path, f"expected {schema['const']!r}, got {_describe(value)}")]
    if "enum" in schema and value not in schema["enum"]:
        return [(path, f"expected one of {', '.join(map(str, schema['enum']))}; got {_describe(value)}")]
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            return [(path, f"expected {' or '.join(types)}, got {_describe(value)}")]
    found: list[tuple[PathKey, str]] = []
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            found.append((path, "expected a non-empty text"))
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append((path, f"expected text matching {schema['pattern']}, got {shown(value)}"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            found.append((path, f"expected a number >= {schema['minimum']:g}, got {value:g}"))
        if "maximum" in schema and value > schema["maximum"]:
            found.append((path, f"expected a number <= {schema['maximum']:g}, got {value:g}"))
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            found.append((path, f"expected at least {schema['minItems']} item(s)"))
        if schema.get("uniqueItems") and len({repr(v) for v in value}) != len(value):
            found.append((path, "expected no repeated items"))
        for i, item in enumerate(value):
            found += problems(item, schema.get("items", {}), path + (i,))
    if isinstance(value, dict):
        found += _object_problems(value, schema, path)
    return found


def _object_problems(value: dict[str, Any], schema: Schema, path: PathKey) -> list[tuple[PathKey, str]]:
    found: list[tuple[PathKey, str]] = []
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    if extra is False:  # a misspelt field explains a "missing" one, so unknown fields are reported first
        allowed = ", ".join(props) if props else "nothing"
        found += [(path + (key,), f"unknown field; expected one of {allowed}") for key in value if key not in props]
    for key, item in value.items():
        if key in props:
            found += problems(item, props[key], path + (key,))
        elif isinstance(extra, dict):
            found += problems(item, extra, path + (key,))
    for key in schema.get("required", []):
        if key not in value:
            found.append((path + (key,), "required field is missing"))
    if len(value) < schema.get("minProperties", 0):
        found.append((path, "expected at least one entry"))
    return found


def _expectation(schema: Schema) -> str:
    if "const" in schema:
        return repr(schema["const"])
    if "type" in schema:
        return f"a {schema['type']}" if isinstance(schema["type"], str) else " or ".join(schema["type"])
    if "required" in schema:
        return "a field " + " or ".join(schema["required"])
    return "a value"


def check(doc: Document, schema: Schema, value: Any = None, path: PathKey = ()) -> None:
    """Raise the first schema problem of `doc` (or of `value` at `path` inside it) as a BanditmapError."""
    found = problems(doc.data if value is None and not path else value, schema, path)
    if found:
        where, message = found[0]
        raise doc.error(where, message)
