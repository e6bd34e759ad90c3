"""The curation step: approve or reject a checked order, choose its venue and size.

This is the simplest real policy: approve what passed the pre-trade check, send it
to the venue it names, else to the configured default venue. Curation may choose
the venue and scale the quantity down; it never raises the quantity, nor changes the
side or the order type.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from trader.store import WorkItem


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


class PassThroughCuration:
    name = "pass_through"

    def __init__(self, served: Collection[str], default_venue: str) -> None:
        self.served = set(served)
        self.default_venue = default_venue if default_venue in self.served else sorted(self.served)[0]

    def curate(self, items: list[WorkItem]) -> dict[str, Curated]:
        decisions: dict[str, Curated] = {}
        for item in items:
            wanted = item.spec.get("venue")
            if wanted is not None and wanted not in self.served:
                decisions[item.id] = Curated(False, reason="UNKNOWN_VENUE",
                                             detail=f"venue {wanted!r} is not configured, enabled and served by this worker")
                continue
            decisions[item.id] = Curated(
                True, venue=wanted or self.default_venue, order_qty=Decimal(str(item.spec["qty"])),
                lesson_metadata={"lessons_applied": [], "confidence_boost": 1.0, "curators": {}, "policy": self.name})
        return decisions
