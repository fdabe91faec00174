"""The OpenAPI 3 document, built from the same pydantic schemas that validate each request."""

from __future__ import annotations

from pydantic import BaseModel

from mobile_api.schemas import Error

#: (method, path, request schema, response schema, public) for each documented route.
ROUTES: list[tuple[str, str, type[BaseModel] | None, type[BaseModel] | None, bool]] = []

REF = "#/components/schemas/{model}"


def route(
    registry,
    method: str,
    path: str,
    request_schema,
    response_schema,
    public: bool = False,
    status: int | None = None,
):
    """Record a route for the document (`status`: its success status when not the usual one);
    the view itself is returned unchanged."""

    def decorator(view):
        registry.append((method, path, request_schema, response_schema, public, status))
        return view

    return decorator


def _schema_ref(model: type[BaseModel], components: dict) -> dict:
    schema = model.model_json_schema(ref_template=REF)
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    components[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def document(routes) -> dict:
    """The whole OpenAPI 3.1 document."""
    components: dict = {}
    error_ref = _schema_ref(Error, components)
    paths: dict = {}
    for method, path, request_schema, response_schema, public, status in routes:
        operation: dict = {"responses": {}}
        ok = "201" if method == "post" and path != "/auth/login" else "200"
        if status == 204:
            operation["responses"]["204"] = {"description": "Done; no body"}
        else:
            operation["responses"][str(status or ok)] = {
                "description": "OK",
                "content": {
                    "application/json": {
                        "schema": _schema_ref(response_schema, components)
                        if response_schema
                        else {"type": "object"}
                    }
                },
            }
        for status in ("400", "401", "413", "415", "422", "429"):
            operation["responses"][status] = {
                "description": "Error",
                "content": {"application/json": {"schema": error_ref}},
            }
        if request_schema is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": _schema_ref(request_schema, components)}
                },
            }
        if not public:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Community corrections — subject phone API", "version": "1"},
        "servers": [{"url": "/mobile/v1"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
