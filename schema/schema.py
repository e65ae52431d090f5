"""The schema: every domain's queries and mutations, with limits and the error policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types.execution import ExecutionContext

from schema.accounts.mutations import AccountMutation
from schema.accounts.queries import AccountQuery
from schema.cart.mutations import CartMutation, CartQuery
from schema.catalog.mutations import CatalogMutation
from schema.catalog.queries import CatalogQuery
from schema.checkout.mutations import CheckoutAdminMutation
from schema.extensions import CostLimit, ErrorPolicy, OperationChoice, log_unexpected
from schema.node import NodeQuery
from schema.scalars import SCALAR_MAP

Query = merge_types("Query", (NodeQuery, CatalogQuery, AccountQuery, CartQuery))
Mutation = merge_types(
    "Mutation", (CatalogMutation, AccountMutation, CartMutation, CheckoutAdminMutation)
)

# Bounded so that unique query texts cannot grow memory without limit.
DOCUMENT_CACHE_SIZE = 512


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 4000
    max_cost: int = 5000


class CommerceSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors are the client's business; only unexpected ones are logged.
        log_unexpected(errors, execution_context)


def build_schema(limits: Limits | None = None) -> strawberry.Schema:
    limits = limits or Limits()
    # Rule classes made once, so that ValidationCache can recognise them across requests.
    rules = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
    ]
    extensions: list[Any] = [
        ErrorPolicy,
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
        OperationChoice,
        lambda: CostLimit(limits.max_cost),
    ]
    return CommerceSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP, disable_field_suggestions=True),
    )
