"""Curators: plug-ins that score an order before it is sent.

A curator has a `name` (its row in tr_curator_weights) and `evaluate(ctx)`, which
returns a CuratorResult: a score in [0, 1] and its predictions. Curation combines the
scores with the curators' weights; the learning loop scores the predictions against
the outcome. A user adds one with the `curation.plugins` setting (or the worker's
--curators option), naming a factory as `package.module:factory`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol


def _dec(value: Any, default: Decimal | None = None) -> Decimal | None:
    if value is None:
        return default
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return default
    return number if number.is_finite() else default


@dataclass(frozen=True)
class LessonEffect:
    """What the lessons do to the order at one venue, as tr_lesson_effect decided it
    (bounds and all): curation reads it, and never recomputes it."""

    lessons: tuple[str, ...] = ()
    confidence_multiplier: Decimal = Decimal(1)
    size_multiplier: Decimal = Decimal(1)
    avoid: bool = False
    prefer: bool = False

    @classmethod
    def from_json(cls, effect: dict[str, Any] | None) -> LessonEffect:
        if not effect:
            return cls()  # a venue the context does not list: no lesson spoke of it
        return cls(lessons=tuple(effect["lessons"]), confidence_multiplier=Decimal(str(effect["confidence_multiplier"])),
                   size_multiplier=Decimal(str(effect["size_multiplier"])), avoid=bool(effect["avoid"]),
                   prefer=bool(effect["prefer"]))


@dataclass
class OrderContext:
    """One order's context, as tr_curation_context gives it: the touch price, whether
    the order increases the position and the lessons' effect at each venue are the
    database's answers."""

    order_id: str
    symbol: str
    side: str
    qty: Decimal
    order_type: str
    limit_px: Decimal | None
    tif: str | None
    requested_venue: str | None
    ref_px: Decimal | None
    signal_strength: Decimal | None
    regime: str | None
    timeframe: str | None
    session_bucket: str | None
    quote: dict[str, Any] | None
    touch: Decimal | None
    position_qty: Decimal
    increases_position: bool
    gross_exposure: Decimal
    risk: dict[str, Any]
    venues: list[dict[str, Any]]
    lessons: list[dict[str, Any]]
    weights: dict[str, Any]
    venue: str | None = None  # the venue chosen so far

    @classmethod
    def from_json(cls, order_id: str, ctx: dict[str, Any], served: Sequence[str]) -> OrderContext:
        order = ctx["order"]
        spec = order.get("spec") or {}
        return cls(
            order_id=order_id, symbol=order["symbol"], side=spec["side"], qty=_dec(spec["qty"]),
            order_type=spec.get("order_type", "market"), limit_px=_dec(spec.get("limit_px")), tif=spec.get("tif"),
            requested_venue=spec.get("venue"), ref_px=_dec(spec.get("ref_px")),
            signal_strength=_dec(order.get("signal_strength")), regime=order.get("regime"),
            timeframe=order.get("timeframe"), session_bucket=order.get("session_bucket"),
            quote=ctx.get("quote"), touch=_dec(ctx.get("touch")),
            position_qty=_dec((ctx.get("position") or {}).get("quantity"), Decimal(0)),
            # Unknown (no side or quantity the database could read) is judged as taking risk.
            increases_position=ctx.get("increases_position") is not False,
            gross_exposure=_dec(ctx.get("gross_exposure"), Decimal(0)), risk=ctx.get("risk") or {},
            venues=[v for v in ctx.get("venues") or [] if v["name"] in served],
            lessons=list(ctx.get("lessons") or []), weights=ctx.get("weights") or {})

    @property
    def direction(self) -> int:
        return 1 if self.side == "buy" else -1

    def venue_row(self, name: str | None) -> dict[str, Any] | None:
        return next((v for v in self.venues if v["name"] == name), None)

    def lesson_effect(self, venue: str | None) -> LessonEffect:
        return LessonEffect.from_json((self.venue_row(venue) or {}).get("lesson_effect"))


@dataclass
class CuratorResult:
    score: float
    predictions: dict[str, Any] = field(default_factory=dict)
    venue: str | None = None  # set by a curator that chooses the venue


class Curator(Protocol):
    name: str

    def evaluate(self, ctx: OrderContext) -> CuratorResult: ...


def expected_slippage_bps(ctx: OrderContext, venue: dict[str, Any]) -> float:
    """Half the spread plus the venue's modelled impact for this size, blended with
    the venue's recent realized slippage on the symbol as evidence accumulates."""
    q = ctx.quote or {}
    bid, ask, mark = _dec(q.get("bid")), _dec(q.get("ask")), _dec(q.get("mark"))
    half_spread = float((ask - bid) / 2 / mark * 10000) if bid and ask and mark else 0.0
    params = venue.get("params") or {}
    model = half_spread + float(params.get("impact_bps_per_unit", 0)) * float(ctx.qty)
    quality = venue.get("quality") or {}
    n = int(quality.get("n") or 0)
    if n and quality.get("mean_slip_bps") is not None:
        prior = 5  # executions' worth of trust in the model
        return (model * prior + float(quality["mean_slip_bps"]) * n) / (prior + n)
    return model


def expected_latency_ms(venue: dict[str, Any]) -> float:
    quality = venue.get("quality") or {}
    if quality.get("n") and quality.get("mean_latency_ms") is not None:
        return float(quality["mean_latency_ms"])
    return float((venue.get("params") or {}).get("latency_ms", 0))


def load_plugin(spec: str) -> Curator:
    """A curator from 'package.module:factory' (a class or a function returning one)."""
    module_name, _, attr = spec.strip().partition(":")
    if not module_name or not attr:
        raise ValueError(f"curator plug-in {spec!r}: expected package.module:factory")
    factory: Callable[[], Curator] = getattr(importlib.import_module(module_name), attr)
    curator = factory()
    if not getattr(curator, "name", None) or not callable(getattr(curator, "evaluate", None)):
        raise ValueError(f"curator plug-in {spec!r}: needs a name and an evaluate(ctx) method")
    return curator


def builtin_curators() -> list[Curator]:
    from trader.curators.execution import ExecutionCurator
    from trader.curators.risk import RiskCurator
    from trader.curators.venue import VenueCurator
    return [VenueCurator(), ExecutionCurator(), RiskCurator()]
