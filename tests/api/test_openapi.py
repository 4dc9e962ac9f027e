"""The OpenAPI document and the routes Flask serves must describe the same API."""

import re

METHODS = {"get", "post", "put", "patch", "delete"}


def _served(app) -> set[tuple[str, str]]:
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in rule.methods & {m.upper() for m in METHODS}:
            served.add((method.lower(), path))
    return served


def test_every_route_is_documented_and_every_documented_route_exists(app, client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.1")
    documented = {(method, path) for path, ops in document["paths"].items() for method in ops if method in METHODS}
    assert _served(app) == documented


def test_every_operation_has_responses_and_refs_resolve(client):
    document = client.get("/api/v1/openapi.json").json
    text = str(document)
    for ref in set(re.findall(r"#/components/([a-zA-Z]+)/([A-Za-z0-9_]+)", text)):
        assert ref[1] in document["components"][ref[0]], ref
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            assert op.get("responses"), (method, path)


def test_search_filters_list_the_facet_vocabularies(client):
    from registry.catalog.search import FACETS
    from registry.spec.deploy import DEPLOY_KINDS

    parameters = client.get("/api/v1/openapi.json").json["paths"]["/solutions"]["get"]["parameters"]
    enums = {p["name"]: p["schema"]["items"].get("enum") for p in parameters if p["name"] in FACETS}
    assert enums["deploy"] == list(DEPLOY_KINDS)
    assert enums == {facet: list(vocabulary) if vocabulary else None for facet, vocabulary in FACETS.items()}
