"""risk_curator: scores how much of the remaining risk limits the order uses, and how
concentrated the book becomes."""

from __future__ import annotations

from decimal import Decimal

from trader.curators import CuratorResult, OrderContext, _dec


def concentration(after: Decimal, own_after: Decimal, others: Decimal) -> float:
    """The symbol's share of gross exposure after the fill: 1 when nothing else is
    held, 0 only when the order leaves no position in the symbol."""
    if after == 0:
        return 0.0
    if others <= 0:
        return 1.0
    return float(own_after / (others + own_after))


class RiskCurator:
    name = "risk_curator"

    def evaluate(self, ctx: OrderContext) -> CuratorResult:
        after = ctx.position_qty + ctx.direction * ctx.qty
        price = ctx.limit_px or ctx.touch or Decimal(0)
        others = max(ctx.gross_exposure - abs(ctx.position_qty) * price, Decimal(0))
        share = concentration(after, abs(after) * price, others)
        if not ctx.increases_position:
            return CuratorResult(1.0, {"limit_usage": 0.0, "concentration": round(share, 4), "reduces": True})
        usage = 0.0
        for limit, used in ((ctx.risk.get("max_order_qty"), ctx.qty),
                            (ctx.risk.get("max_order_notional"), ctx.qty * price),
                            (ctx.risk.get("max_position_qty"), abs(after))):
            limit_dec = _dec(limit)
            if limit_dec is not None:
                usage = max(usage, float(used / limit_dec) if limit_dec > 0 else 1.0)
        score = max(0.0, min(1.0, 1.0 - 0.8 * min(usage, 1.0) - 0.2 * share))
        return CuratorResult(score, {"limit_usage": round(usage, 4), "concentration": round(share, 4)})
