"""venue_curator: chooses the venue with the lowest expected cost (fees, slippage,
latency), moved by lessons that prefer or avoid a venue."""

from __future__ import annotations

from trader.curators import CuratorResult, OrderContext, expected_latency_ms, expected_slippage_bps

AVOID_PENALTY_BPS = 100.0   # a lesson saying "avoid" outweighs any fee difference
PREFER_BONUS_BPS = 5.0
LATENCY_BPS_PER_MS = 0.01   # 100 ms of latency costs like 1 bp


class VenueCurator:
    name = "venue_curator"

    def evaluate(self, ctx: OrderContext) -> CuratorResult:
        costs: dict[str, float] = {}
        slips: dict[str, float] = {}
        for venue in ctx.venues:
            name = venue["name"]
            slips[name] = expected_slippage_bps(ctx, venue)
            cost = float((venue.get("params") or {}).get("fee_bps", 0)) + slips[name] \
                + expected_latency_ms(venue) * LATENCY_BPS_PER_MS
            effect = ctx.lesson_effect(name)
            if effect.avoid:
                cost += AVOID_PENALTY_BPS
            if effect.prefer:
                cost -= PREFER_BONUS_BPS
            costs[name] = round(cost, 4)
        if not costs:
            return CuratorResult(0.0, {"venue_costs_bps": {}}, venue=None)
        # The Decision Maker's explicit venue is honoured; curation chooses otherwise.
        chosen = ctx.requested_venue if ctx.requested_venue in costs else min(costs, key=lambda n: (costs[n], n))
        score = 1.0 / (1.0 + max(costs[chosen], 0.0) / 50.0)  # 50 bps of expected cost scores 0.5
        return CuratorResult(score, {"slip_bps": round(slips[chosen], 4), "venue_costs_bps": costs}, venue=chosen)
