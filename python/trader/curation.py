"""Lesson-enhanced curation: curators score each order, their weights combine the
scores, lessons adjust the result, and a threshold decides. What the lessons do at
the chosen venue (multipliers, bounds, which lessons applied) is the database's
answer in the context (tr_lesson_effect); this module only applies it.

Curation may choose the venue and scale the quantity down; it never raises the
quantity, nor changes the side or the order type. A curator that raises or times
out is left out of that decision, and the report says so.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from trader.curators import Curator, CuratorResult, OrderContext
from trader.log import event

log = logging.getLogger("trader.curation")

QTY_STEP = Decimal("0.00000001")
PREDICTION_KEYS = ("fill_prob", "slip_bps", "latency_ms")


@dataclass
class Curated:
    approved: bool
    venue: str | None = None
    order_qty: Decimal | None = None
    tr_predict: dict[str, Any] | None = None
    lesson_metadata: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    detail: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"order_qty": None if self.order_qty is None else str(self.order_qty),
                "tr_predict": self.tr_predict, "lesson_metadata": self.lesson_metadata}


def _plain_predictions(predictions: Any) -> dict[str, Any]:
    """A curator's predictions as JSON the report can carry: Decimals become floats;
    NaN, infinities and anything JSON cannot hold are refused (the curator fails)."""
    if not isinstance(predictions, dict):
        raise ValueError("predictions must be a dict")

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            value = float(value)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"prediction {value} is not a finite number")
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if value is None or isinstance(value, (str, int, float, bool)):
            return value
        raise ValueError(f"prediction of type {type(value).__name__} cannot be recorded")

    return plain(predictions)


class LessonEnhancedCuration:
    def __init__(self, curators: Sequence[Curator], served: Collection[str], default_venue: str,
                 threshold: float, timeout_s: float) -> None:
        self.curators = list(curators)
        self.served = sorted(served)
        self.default_venue = default_venue if default_venue in served else self.served[0]
        self.threshold = threshold
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=2 * max(2, len(self.curators)), thread_name_prefix="curator")
        self._outstanding: dict[str, Future] = {}

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def curate(self, contexts: dict[str, dict[str, Any]]) -> dict[str, Curated]:
        orders: dict[str, OrderContext] = {}
        decisions: dict[str, Curated] = {}
        for order_id, raw in contexts.items():
            wanted = ((raw.get("order") or {}).get("spec") or {}).get("venue")
            if wanted is not None and wanted not in self.served:
                decisions[order_id] = Curated(False, reason="UNKNOWN_VENUE",
                                              detail=f"venue {wanted!r} is not configured, enabled and served by this worker")
                continue
            orders[order_id] = OrderContext.from_json(order_id, raw, self.served)

        results: dict[str, dict[str, CuratorResult]] = {oid: {} for oid in orders}
        failures: dict[str, dict[str, str]] = {oid: {} for oid in orders}
        # Curators that choose the venue run first; the others then judge that venue.
        choosers = [c for c in self.curators if c.name == "venue_curator"]
        self._run(choosers, orders, results, failures)
        for oid, ctx in orders.items():
            chosen = next((r.venue for r in results[oid].values() if r.venue), None)
            ctx.venue = chosen or ctx.requested_venue or self.default_venue
        self._run([c for c in self.curators if c not in choosers], orders, results, failures)

        for oid, ctx in orders.items():
            decisions[oid] = self._decide(ctx, results[oid], failures[oid])
        return decisions

    def _run(self, curators: Sequence[Curator], orders: dict[str, OrderContext],
             results: dict[str, dict[str, CuratorResult]], failures: dict[str, dict[str, str]]) -> None:
        """Each curator judges the whole batch in its own thread, within the timeout."""
        if not curators or not orders:
            return
        started = time.monotonic()
        futures: dict[str, Future] = {}
        for curator in curators:
            earlier = self._outstanding.get(curator.name)
            if earlier is not None and not earlier.done():
                # A call that never returned still holds a thread: do not give it another.
                for oid in orders:
                    failures[oid][curator.name] = "still busy with an earlier batch"
                continue
            futures[curator.name] = self._outstanding[curator.name] = self._pool.submit(self._judge, curator, orders)
        for name, future in futures.items():
            remaining = max(0.0, self.timeout_s - (time.monotonic() - started))
            try:
                judged, errors = future.result(timeout=remaining)
            except FutureTimeout:
                future.cancel()
                for oid in orders:
                    failures[oid][name] = f"timed out after {int(self.timeout_s * 1000)} ms"
                event(log, "curator_failed", logging.WARNING, curator=name, error="timeout", orders=len(orders))
                continue
            for oid, result in judged.items():
                results[oid][name] = result
            for oid, error in errors.items():
                failures[oid][name] = error
                event(log, "curator_failed", logging.WARNING, curator=name, order_id=oid, error=error)

    @staticmethod
    def _judge(curator: Curator, orders: dict[str, OrderContext]) -> tuple[dict[str, CuratorResult], dict[str, str]]:
        judged: dict[str, CuratorResult] = {}
        errors: dict[str, str] = {}
        for oid, ctx in orders.items():
            try:
                result = curator.evaluate(ctx)
                score = float(result.score)
                if not 0.0 <= score <= 1.0:
                    raise ValueError(f"score {score} is outside [0, 1]")
                result.predictions = _plain_predictions(result.predictions)
                judged[oid] = result
            except Exception as exc:  # a plug-in's failure must not fail the order
                errors[oid] = f"{type(exc).__name__}: {exc}"
        return judged, errors

    def _decide(self, ctx: OrderContext, results: dict[str, CuratorResult], failures: dict[str, str]) -> Curated:
        weights = {name: float((ctx.weights.get(name) or {}).get("weight", 1)) for name in results}
        total = sum(weights.values())
        combined = sum(weights[n] * float(r.score) for n, r in results.items()) / total if total > 0 else 0.0

        effect = ctx.lesson_effect(ctx.venue)
        boost, size = float(effect.confidence_multiplier), effect.size_multiplier
        adjusted = combined * boost
        order_qty = (ctx.qty * size).quantize(QTY_STEP, rounding=ROUND_DOWN)

        predictions = self._combine_predictions(results, weights)
        metadata = {
            "lessons_applied": list(effect.lessons), "confidence_boost": round(boost, 4),
            "size_multiplier": round(float(size), 4),
            "combined_score": round(combined, 4), "adjusted_score": round(adjusted, 4), "threshold": self.threshold,
            "curators": {n: {"score": round(float(r.score), 4), "weight": weights[n], "predictions": r.predictions}
                         for n, r in results.items()},
            "failed_curators": failures, "venue": ctx.venue,
        }
        if not results:
            return Curated(False, ctx.venue, order_qty, predictions, metadata, "CURATOR_REJECTED", "no curator could judge the order")
        if order_qty <= 0:
            return Curated(False, ctx.venue, order_qty, predictions, metadata, "CURATOR_REJECTED",
                           f"lessons scaled the quantity to zero (size multiplier {size:.4f})")
        if adjusted < self.threshold:
            return Curated(False, ctx.venue, order_qty, predictions, metadata, "CURATOR_REJECTED",
                           f"score {adjusted:.4f} is below the threshold {self.threshold}")
        return Curated(True, ctx.venue, order_qty, predictions, metadata)

    @staticmethod
    def _combine_predictions(results: dict[str, CuratorResult], weights: dict[str, float]) -> dict[str, Any]:
        """tr_predict: for each predicted quantity, the weighted mean over the curators
        that predicted it."""
        combined: dict[str, Any] = {}
        for key in PREDICTION_KEYS:
            pairs = [(weights[n], float(r.predictions[key])) for n, r in results.items()
                     if isinstance(r.predictions.get(key), (int, float, Decimal))]
            total = sum(w for w, _ in pairs)
            combined[key] = round(sum(w * v for w, v in pairs) / total, 4) if total > 0 else None
        return combined
