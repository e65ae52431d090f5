"""How often promotions are used: counted when an order is placed, given back when it is
cancelled. Each is one conditional statement for all of an order's promotions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, insert, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import ErrorCode, fail
from app.promotions.models import Promotion, PromotionRedemption


async def lock_limited(session: AsyncSession, promotions: Sequence[Promotion]) -> list[int]:
    """Locks the promotions with a per-customer limit, in id order (the last step of the lock
    order in `app.inventory.locking`), so that one customer's checkouts count one after the
    other; returns their ids."""
    limited = sorted(p.id for p in promotions if p.per_customer_limit is not None and p.id)
    if limited:
        await session.exec(
            select(Promotion.id)
            .where(col(Promotion.id).in_(limited))
            .order_by(col(Promotion.id))
            .with_for_update()
        )
    return limited


async def count_uses(session: AsyncSession, promotions: Sequence[Promotion]) -> None:
    """One more use of each, never past its limit (a conditional update, safe under
    concurrency); COUPON_USAGE_LIMIT names the first one that was used up meanwhile."""
    if not promotions:
        return
    counted = set(
        (
            await session.exec(  # type: ignore[call-overload]
                update(Promotion)
                .where(
                    col(Promotion.id).in_([p.id for p in promotions]),
                    or_(
                        col(Promotion.usage_limit).is_(None),
                        col(Promotion.used_count) < col(Promotion.usage_limit),
                    ),
                )
                .values(used_count=col(Promotion.used_count) + 1)
                .returning(Promotion.id)
            )
        )
        .scalars()
        .all()
    )
    for promotion in promotions:
        if promotion.id not in counted:
            code = promotion.coupon_code or promotion.name
            raise fail(ErrorCode.COUPON_USAGE_LIMIT, f"the coupon {code} has been used up", "code")


async def record_redemptions(
    session: AsyncSession,
    promotion_ids: Sequence[int],
    order_id: int,
    customer_email: str,
    now: datetime,
) -> None:
    """One redemption per promotion the order used: what per-customer limits count."""
    if not promotion_ids:
        return
    await session.exec(  # type: ignore[call-overload]
        insert(PromotionRedemption),
        params=[
            {
                "promotion_id": promotion_id,
                "order_id": order_id,
                "customer_email": customer_email,
                "created_at": now,
            }
            for promotion_id in promotion_ids
        ],
    )


async def give_back(session: AsyncSession, order_id: int) -> None:
    """The uses an order counted are given back (it was cancelled)."""
    used = (
        (
            await session.exec(  # type: ignore[call-overload]
                delete(PromotionRedemption)
                .where(col(PromotionRedemption.order_id) == order_id)
                .returning(PromotionRedemption.promotion_id)
            )
        )
        .scalars()
        .all()
    )
    if not used:
        return
    await session.exec(  # type: ignore[call-overload]
        update(Promotion)
        .where(col(Promotion.id).in_(sorted(set(used))), col(Promotion.used_count) > 0)
        .values(used_count=col(Promotion.used_count) - 1)
    )
