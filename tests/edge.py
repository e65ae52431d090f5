"""Helpers for the API's edge: persisted queries by hash over GET and POST."""

from __future__ import annotations

import json
from typing import Any

import httpx

from app.persisted import document_hash
from tests.support import GraphQLClient, Result


def extensions(sha: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha}}


async def persisted(
    api: GraphQLClient,
    document: str,
    variables: dict[str, Any] | None = None,
    *,
    get: bool = False,
    register: bool = False,
    headers: dict[str, str] | None = None,
    sha: str | None = None,
) -> Result:
    """`document` by its hash alone (or, with `register`, with its text), as Apollo sends it."""
    sha = sha or document_hash(document)
    sent = {**api.headers, **(headers or {})}
    if api.token:
        sent["authorization"] = f"Bearer {api.token}"
    before = api.counter.total
    response: httpx.Response
    if get:
        params = {
            "extensions": json.dumps(extensions(sha)),
            "variables": json.dumps(variables or {}),
        }
        if register:
            params["query"] = document
        response = await api.http.get("/graphql", params=params, headers=sent)
    else:
        body: dict[str, Any] = {"variables": variables or {}, "extensions": extensions(sha)}
        if register:
            body["query"] = document
        response = await api.http.post("/graphql", json=body, headers=sent)
    return Result(
        status=response.status_code,
        body=response.json() if response.content else {},
        headers=response.headers,
        statements=api.counter.total - before,
    )
