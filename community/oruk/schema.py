"""The ORUK JSON schemas shipped in ``schema/``, reachable by their public addresses without a network."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
PUBLIC_PREFIX = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/"
COMPILED = PUBLIC_PREFIX + "compiled/"


def _retrieve(uri: str) -> Resource[Any]:
    if not uri.startswith(PUBLIC_PREFIX):
        raise LookupError(f"{uri} is not an ORUK schema shipped with Linkwork")
    path = (SCHEMA_DIR / uri.removeprefix(PUBLIC_PREFIX)).resolve()
    if SCHEMA_DIR not in path.parents:
        raise LookupError(uri)
    # The upstream files declare no $schema; the OpenAPI file says they are Draft 2020-12.
    return Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT202012)


def _date_time(value: object) -> bool:
    # RFC 3339 needs an offset; jsonschema checks nothing here unless an optional package is installed.
    if not isinstance(value, str):
        return True
    try:
        return dt.datetime.fromisoformat(value).tzinfo is not None and "T" in value.upper()
    except ValueError:
        return False


def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme) and bool(parts.netloc or parts.path) and " " not in value


@cache
def format_checker() -> FormatChecker:
    """jsonschema's FormatChecker (uuid, email, date, time…) plus real checks of ``date-time`` and ``uri``."""
    checker = FormatChecker()
    checker.checks("date-time")(_date_time)
    checker.checks("uri")(_uri)
    return checker


@cache
def registry() -> Registry[Any]:
    """Resolves every ``https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/…`` address to the
    copy in ``schema/``; any other address raises instead of going to the network."""
    return Registry(retrieve=_retrieve)


@cache
def validator(uri: str) -> Draft202012Validator:
    """A Draft 2020-12 validator with format checking for the schema at ``uri`` (a public ORUK address, or a
    JSON pointer into one, e.g. ``…/schema/openapi.json#/paths/~1services/get/…``)."""
    return Draft202012Validator({"$ref": uri}, registry=registry(), format_checker=format_checker())


def errors(uri: str, instance: Any) -> list[str]:
    """Every way ``instance`` fails the schema at ``uri``, as ``path: message`` lines (empty when valid)."""
    found = sorted(validator(uri).iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(item)'}: {e.message}" for e in found]
