"""Fuzz the JSON API against its own OpenAPI document with schemathesis.

Every operation of /api/v1/openapi.json gets generated requests, valid ones and invalid ones,
sent in-process to the app on the demo data (SQLite, or PostgreSQL with TEST_DB). No answer
may be a server error, and every answer must be one the document declares: status code,
content type, headers and body schema; invalid requests must be refused with a 4xx.
Bounded and derandomized, so a run is short and repeatable.

The operations are driven through schemathesis' Hypothesis strategies inside ordinary tests:
`schemathesis.pytest.from_fixture` (the documented way to load a schema from a fixture) sets
`Item._nodeid`, which pytest 9.2 no longer has.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shop.api.openapi import document

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
PATHS = document()["paths"]
OPERATIONS = [(path, method.upper()) for path, item in PATHS.items() for method in item]
#: (path, method, mode): invalid requests only where there is a parameter to make invalid.
RUNS = [
    (path, method, mode)
    for path, method in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or PATHS[path][method.lower()].get("parameters")
]
EXAMPLES = 30


@pytest.fixture
def api_schema(client, monkeypatch):
    """The document as the running app serves it, bound to that app (WSGI, in-process)."""
    # Hundreds of requests from one address: past the per-address limit, on purpose.
    monkeypatch.setitem(client.application.config, "API_RATE_LIMIT", "1000000 per minute")
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", client.application)


def test_the_document_lists_every_api_route(app):
    """Each route under /api/v1 (but the document and the catch-all 404) is an operation."""
    routes = {
        rule.rule.removeprefix("/api/v1").replace("<slug>", "{slug}") or "/"
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        and rule.endpoint not in ("api.openapi_document", "api.unknown")
    }
    assert routes == {path for path, _method in OPERATIONS}


@pytest.mark.parametrize(
    "path, method, mode", RUNS, ids=[f"{m} {p} {mode.value}" for p, m, mode in RUNS]
)
def test_api_conforms_to_its_openapi_document(api_schema, path, method, mode):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.call_and_validate(checks=CHECKS)

    run()


def test_every_public_record_and_whole_list_conforms(api_schema, client):
    """Random slugs hardly ever exist: validate the real ones, each detail and full pages."""
    pages = {
        "/products": ("/products/{slug}", {"limit": 100}),
        "/cooperatives": ("/cooperatives/{slug}", {"limit": 100}),
        "/programmes": ("/programmes/{slug}", {"limit": 100}),
    }
    for list_path, (detail_path, query) in pages.items():
        slugs = []
        cursor = None
        while True:
            case = api_schema[list_path]["GET"].Case(
                query={**query, **({"cursor": cursor} if cursor else {})}
            )
            body = case.call_and_validate(checks=CHECKS).json()
            slugs += [item["slug"] for item in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert slugs
        for slug in slugs:
            case = api_schema[detail_path]["GET"].Case(path_parameters={"slug": slug})
            assert case.call_and_validate(checks=CHECKS).status_code == 200
