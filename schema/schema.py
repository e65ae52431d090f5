"""The schema: every domain's queries and mutations, with limits and the error policy."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError, MaxIntrospectionDepthRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types.execution import ExecutionContext

from app.settings import Settings
from schema.accounts.mutations import AccountMutation
from schema.accounts.queries import AccountQuery
from schema.budget import CostBudget
from schema.cart.mutations import CartMutation, CartQuery
from schema.catalog.mutations import CatalogMutation
from schema.catalog.queries import CatalogQuery
from schema.checkout.mutations import CheckoutAdminMutation
from schema.documents import DocumentGate, DocumentStore
from schema.extensions import OperationChoice, log_unexpected
from schema.limits import Limits
from schema.logistics.mutations import LogisticsMutation, LogisticsQuery
from schema.node import NodeQuery
from schema.notifications import NotificationQuery
from schema.orders.admin import OrderAdminMutation, OrderAdminQuery
from schema.orders.mutations import OrderMutation
from schema.orders.queries import OrderQuery
from schema.orders.returns import ReturnMutation
from schema.orders.subscriptions import OrderSubscription
from schema.payments.mutations import PaymentMutation, PaymentQuery
from schema.reports.queries import ReportQuery
from schema.scalars import SCALAR_MAP

Query = merge_types(
    "Query",
    (
        NodeQuery,
        CatalogQuery,
        AccountQuery,
        CartQuery,
        OrderQuery,
        OrderAdminQuery,
        PaymentQuery,
        ReportQuery,
        NotificationQuery,
        LogisticsQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        CatalogMutation,
        AccountMutation,
        CartMutation,
        CheckoutAdminMutation,
        OrderMutation,
        OrderAdminMutation,
        ReturnMutation,
        PaymentMutation,
        LogisticsMutation,
    ),
)

Subscription = merge_types("Subscription", (OrderSubscription,))


class CommerceSchema(strawberry.Schema):
    # Its parse and validation cache, shared with the edge (persisted queries, idempotency).
    documents: DocumentStore

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors are the client's business; only unexpected ones are logged.
        log_unexpected(errors, execution_context)


def build_schema(limits: Limits | None = None, *, introspection: bool = True) -> CommerceSchema:
    """The schema with its limits; without `introspection`, `__schema` and `__type` are refused."""
    store = DocumentStore(limits or Limits.from_settings(Settings()))
    rules: list[Any] = [MaxIntrospectionDepthRule]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[Any] = [
        lambda: AddValidationRules(rules),
        lambda: DocumentGate(store),
        OperationChoice,
        CostBudget,
    ]
    schema = CommerceSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP, disable_field_suggestions=True),
    )
    schema.documents = store
    return schema
