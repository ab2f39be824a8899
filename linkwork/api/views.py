"""The API's own description: the OpenAPI document (/api/schema/) and a page for people (/api/docs/).

Both are public: the document holds no data, only what the API accepts and answers, and the integrators who need
it have no Linkwork account. The page is rendered on the server from the same document (no Swagger UI, nothing
loaded from elsewhere), so it works without JavaScript and under the site's CSP.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from linkwork.api import docs, openapi


@require_GET
def schema(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(openapi.document_json(), content_type="application/json")
    # Tools that read OpenAPI documents (editors, code generators) fetch it from their own origin.
    response["Access-Control-Allow-Origin"] = "*"
    response["Content-Disposition"] = 'inline; filename="linkwork-openapi.json"'
    return response


@cache
def _page_context() -> dict[str, Any]:
    # The document only changes with the code, so the page's content is worked out once per process.
    document = openapi.document()
    return {
        "info": document["info"],
        "openapi_version": document["openapi"],
        "introduction": docs.blocks(document["info"].get("description", "")),
        "security_schemes": docs.security_schemes(document),
        "groups": docs.groups(document),
        "schemas": docs.schemas(document),
    }


@require_GET
def page(request: HttpRequest) -> HttpResponse:
    return render(request, "api/docs.html", _page_context())
