"""Turn the OpenAPI document into what the human-readable page (/api/docs/) shows: every operation with its
parameters, request body and responses, the security schemes and the top level of every schema.

Pure functions over the document, so the page can never drift from it: a path added to the document appears on
the page with nothing else to do. Text from the document is escaped; only `code` spans, **bold** and http(s)
links from its Markdown are kept, which is all it uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import slugify

from linkwork.api import openapi

_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")


def inline(text: str) -> SafeString:
    """Escaped text with Markdown code spans, bold and http(s) links made into HTML."""
    html = str(conditional_escape(text))
    html = _CODE.sub(r"<code>\1</code>", html)
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    html = _LINK.sub(r'<a href="\2">\1</a>', html)
    return SafeString(html)  # nosec B703 - built from escaped text; only our own tags are added


def blocks(text: str) -> list[tuple[str, list[SafeString]]]:
    """Markdown paragraphs and ``- `` lists as ("p", [text]) / ("ul", [items]); continuation lines join."""
    result: list[tuple[str, list[SafeString]]] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        items: list[str] = []
        for line in chunk.splitlines():
            if line.startswith("- "):
                items.append(line[2:].strip())
            elif items:
                items[-1] += " " + line.strip()
            else:
                items = []
                break
        if items:
            result.append(("ul", [inline(i) for i in items]))
        elif chunk:
            result.append(("p", [inline(" ".join(line.strip() for line in chunk.splitlines()))]))
    return result


def schema_anchor(name: str) -> str:
    return f"schema-{name}"


def describe(schema: Any) -> SafeString:
    """A one-line description of a schema's type: ``string (uuid)``, ``array of OrukService`` (linked), …"""
    if not isinstance(schema, dict):
        return format_html("{}", "any")
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return format_html('<a href="#{}">{}</a>', schema_anchor(name), name)
    for keyword in ("oneOf", "anyOf"):
        if keyword in schema:
            return format_html_join(" or ", "{}", ((describe(s),) for s in schema[keyword]))
    if "allOf" in schema:
        parts = [describe(s) for s in schema["allOf"]]
        if schema.get("properties"):
            parts.append(format_html("{}", "object"))
        return format_html_join(" and ", "{}", ((p,) for p in parts))
    if "const" in schema:
        return format_html("<code>{}</code>", _literal(schema["const"]))
    if "enum" in schema:
        return format_html(
            "one of {}", format_html_join(", ", "<code>{}</code>", ((_literal(v),) for v in schema["enum"]))
        )
    kind = schema.get("type", "object" if "properties" in schema else "any")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array":
        return format_html("array of {}", describe(schema.get("items")))
    details = [str(schema["format"])] if "format" in schema else []
    if "minimum" in schema:
        details.append(f"≥ {schema['minimum']}")
    if "maximum" in schema:
        details.append(f"≤ {schema['maximum']}")
    if "pattern" in schema:
        details.append(f"pattern {schema['pattern']}")
    if details:
        return format_html("{} ({})", kind, ", ".join(details))
    return format_html("{}", kind)


def _literal(value: Any) -> str:
    return value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)


@dataclass
class Parameter:
    name: str
    location: str
    required: bool
    type: SafeString
    description: SafeString


@dataclass
class Content:
    media_type: str
    type: SafeString


@dataclass
class Response:
    status: str
    description: SafeString
    content: list[Content]
    headers: list[tuple[str, SafeString]]


@dataclass
class Operation:
    anchor: str
    method: str
    path: str
    summary: SafeString
    description: SafeString | None
    security: list[str]
    parameters: list[Parameter]
    request_body: list[Content]
    request_body_required: bool
    responses: list[Response]


@dataclass
class Group:
    name: str
    description: SafeString
    operations: list[Operation] = field(default_factory=list)


@dataclass
class Property:
    name: str
    type: SafeString
    required: bool
    description: SafeString


@dataclass
class Schema:
    name: str
    anchor: str
    type: SafeString
    description: SafeString | None
    properties: list[Property]


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (to a parameter or response component); schemas stay as links."""
    while "$ref" in node:
        target: Any = document
        for key in node["$ref"].removeprefix("#/").split("/"):
            target = target[key.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _contents(content: dict[str, Any]) -> list[Content]:
    return [Content(media_type, describe(media.get("schema"))) for media_type, media in content.items()]


def _operation(document: dict[str, Any], path: str, method: str, item: dict[str, Any], op: dict[str, Any]):
    parameters = []
    for raw in [*item.get("parameters", []), *op.get("parameters", [])]:
        p = _resolve(document, raw)
        parameters.append(
            Parameter(
                name=p["name"],
                location=p["in"],
                required=bool(p.get("required")),
                type=describe(p.get("schema")),
                description=inline(p.get("description") or p.get("schema", {}).get("description", "")),
            )
        )
    body = _resolve(document, op["requestBody"]) if "requestBody" in op else {}
    responses = []
    for status, raw in sorted(op.get("responses", {}).items()):
        r = _resolve(document, raw)
        headers = [(name, inline(h.get("description", ""))) for name, h in r.get("headers", {}).items()]
        responses.append(Response(status, inline(r.get("description", "")), _contents(r.get("content", {})), headers))
    security = [name for requirement in op.get("security", document.get("security", [])) for name in requirement]
    description = op.get("description")
    return Operation(
        anchor=slugify(f"{method}-{op.get('operationId') or path}"),
        method=method.upper(),
        path=path,
        summary=inline(op.get("summary") or description or ""),
        description=inline(description) if description and description != op.get("summary") else None,
        security=security,
        parameters=parameters,
        request_body=_contents(body.get("content", {})),
        request_body_required=bool(body.get("required")),
        responses=responses,
    )


def groups(document: dict[str, Any]) -> list[Group]:
    """Operations by tag, in the order of the document's ``tags`` (untagged ones last, under "Other")."""
    by_name = {t["name"]: Group(t["name"], inline(t.get("description", ""))) for t in document.get("tags", [])}
    for path, item in document["paths"].items():
        for method, op in openapi.item_operations(item):
            tag = (op.get("tags") or ["Other"])[0]
            group = by_name.setdefault(tag, Group(tag, inline("")))
            group.operations.append(_operation(document, path, method, item, op))
    return [g for g in by_name.values() if g.operations]


def schemas(document: dict[str, Any]) -> list[Schema]:
    result = []
    for name, s in sorted(document.get("components", {}).get("schemas", {}).items()):
        required = set(s.get("required", []))
        properties = [
            Property(
                name=prop,
                type=describe(value),
                required=prop in required,
                description=inline(value.get("description", "") if isinstance(value, dict) else ""),
            )
            for prop, value in s.get("properties", {}).items()
        ]
        own = {k: v for k, v in s.items() if k != "properties"}
        result.append(
            Schema(
                name,
                schema_anchor(name),
                describe(own),
                inline(s["description"]) if "description" in s else None,
                properties,
            )
        )
    return result


def security_schemes(document: dict[str, Any]) -> list[tuple[str, dict[str, Any], SafeString]]:
    return [
        (name, scheme, inline(scheme.get("description", "")))
        for name, scheme in document.get("components", {}).get("securitySchemes", {}).items()
    ]
