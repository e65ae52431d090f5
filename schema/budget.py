"""Every operation pays its cost from its caller's bucket before it runs, and every
answer says so in `extensions.cost` (Shopify's shape; `app.budget`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from app.budget import Charge
from app.logs import request_facts
from resolvers.context import Context

THROTTLED = "THROTTLED"


def throttled_error(charge: Charge) -> GraphQLError:
    return GraphQLError(
        f"throttled: this operation costs {charge.cost} points and "
        f"{int(charge.available)} of {charge.bucket.capacity} are available; "
        f"try again in {charge.retry_after_seconds} s",
        extensions={
            "code": THROTTLED,
            "cost": charge.cost,
            "retryAfterSeconds": charge.retry_after_seconds,
        },
    )


def over_budget_error(cost: int, capacity: int) -> GraphQLError:
    return GraphQLError(
        f"query cost {cost} exceeds this client's budget of {capacity} points",
        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": capacity},
    )


async def pay(context: Context, cost: int) -> Charge:
    """Takes `cost` from the caller's bucket (0 only reads it); remembered on the context."""
    assert context.budgets is not None
    charge = await context.budgets.take(context.bucket(), cost)
    context.charge = charge
    facts = request_facts.get()
    if facts is not None:
        facts.cost = cost
    return charge


class CostBudget(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        context = ctx.context
        cost = getattr(context, "requested_cost", None)
        if isinstance(context, Context) and context.budgets is not None and cost is not None:
            bucket = context.bucket()
            if cost > bucket.capacity:
                ctx.result = GraphQLExecutionResult(
                    data=None, errors=[over_budget_error(cost, bucket.capacity)]
                )
            elif not ctx.result:
                charge = await pay(context, max(cost, 1))
                if not charge.allowed:
                    ctx.result = GraphQLExecutionResult(data=None, errors=[throttled_error(charge)])
        yield

    async def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        if not isinstance(context, Context) or context.budgets is None:
            return {}
        charge = context.charge or await pay(context, 0)
        report = charge.report()
        report["requestedQueryCost"] = context.requested_cost or 0
        return {"cost": report}
