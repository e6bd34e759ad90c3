"""risk_curator: scores how much of the remaining risk limits the order uses, and how
concentrated the book becomes."""

from __future__ import annotations

from decimal import Decimal

from trader.curators import CuratorResult, OrderContext, _dec


class RiskCurator:
    name = "risk_curator"

    def evaluate(self, ctx: OrderContext) -> CuratorResult:
        after = ctx.position_qty + ctx.direction * ctx.qty
        if not ctx.increases_position:
            return CuratorResult(1.0, {"limit_usage": 0.0, "concentration": 0.0, "reduces": True})
        price = ctx.limit_px or ctx.touch or Decimal(0)
        usage = 0.0
        for limit, used in ((ctx.risk.get("max_order_qty"), ctx.qty),
                            (ctx.risk.get("max_order_notional"), ctx.qty * price),
                            (ctx.risk.get("max_position_qty"), abs(after))):
            limit_dec = _dec(limit)
            if limit_dec is not None:
                usage = max(usage, float(used / limit_dec) if limit_dec > 0 else 1.0)
        own_before = abs(ctx.position_qty) * price
        own_after = abs(after) * price
        others = max(ctx.gross_exposure - own_before, Decimal(0))
        concentration = float(own_after / (others + own_after)) if others > 0 and own_after > 0 else 0.0
        score = max(0.0, min(1.0, 1.0 - 0.8 * min(usage, 1.0) - 0.2 * concentration))
        return CuratorResult(score, {"limit_usage": round(usage, 4), "concentration": round(concentration, 4)})
