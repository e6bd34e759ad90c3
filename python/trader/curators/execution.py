"""execution_curator: predicts fill probability, slippage and latency at the chosen
venue from the order's size, the spread, the venue's model and its history."""

from __future__ import annotations

import math

from trader.curators import CuratorResult, OrderContext, expected_latency_ms, expected_slippage_bps


class ExecutionCurator:
    name = "execution_curator"

    def evaluate(self, ctx: OrderContext) -> CuratorResult:
        venue = ctx.venue_row(ctx.venue)
        touch = ctx.touch
        if venue is None or touch is None:
            return CuratorResult(0.0, {"fill_prob": 0.0, "slip_bps": None, "latency_ms": None})
        if ctx.order_type == "market":
            fill_prob = 1.0
        elif (ctx.direction > 0 and ctx.limit_px >= touch) or (ctx.direction < 0 and ctx.limit_px <= touch):
            fill_prob = 0.98
        else:
            distance_bps = float(abs(touch - ctx.limit_px) / touch * 10000)
            # A resting order fills only if the market comes to it; an ioc one never rests.
            fill_prob = 0.0 if ctx.tif == "ioc" else 0.5 * math.exp(-distance_bps / 25)
        slip = expected_slippage_bps(ctx, venue)
        score = fill_prob / (1.0 + max(slip, 0.0) / 50.0)  # 50 bps of expected slippage halves it
        return CuratorResult(score, {"fill_prob": round(fill_prob, 4), "slip_bps": round(slip, 4),
                                     "latency_ms": round(expected_latency_ms(venue), 1)})
