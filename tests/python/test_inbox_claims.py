"""Claims from concurrent connections: SKIP LOCKED and leases, which a single pgTAP
transaction cannot show."""

from __future__ import annotations

import threading
import time

from trader.db import connect


def fill_inbox(db, n: int, prefix: str = "C") -> set[str]:
    db.execute(
        "INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec) "
        "SELECT %s || lpad(g::text, 5, '0'), 'decision', %s || lpad(g::text, 5, '0'), 'BTC-USD', '{\"side\": \"buy\", \"qty\": 1}' "
        "FROM generate_series(1, %s) g",
        (prefix, prefix, n))
    return {f"{prefix}{i:05d}" for i in range(1, n + 1)}


def test_an_open_claim_is_skipped_not_waited_for(db):
    fill_inbox(db, 10)
    with connect() as a, connect() as b:
        got_a = {r[0] for r in a.execute("SELECT id FROM tr_claim_orders('a', 5)")}  # transaction left open
        got_b = {r[0] for r in b.execute("SELECT id FROM tr_claim_orders('b', 10)")}
        b.commit()
        a.commit()
    assert len(got_a) == 5 and len(got_b) == 5
    assert not got_a & got_b


def test_two_workers_claiming_at_once_never_share_an_item(db):
    expected = fill_inbox(db, 600)
    claims: dict[str, list[str]] = {"w1": [], "w2": []}
    start = threading.Barrier(2)

    def work(name: str) -> None:
        with connect(autocommit=True) as conn:
            start.wait()
            while True:
                rows = conn.execute("SELECT id FROM tr_claim_orders(%s, 7)", (name,)).fetchall()
                if not rows:
                    return
                claims[name].extend(r[0] for r in rows)

    threads = [threading.Thread(target=work, args=(name,)) for name in claims]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    both = claims["w1"] + claims["w2"]
    assert len(both) == len(set(both)), "an item was claimed twice"
    assert set(both) == expected, "every item was claimed"
    assert claims["w1"] and claims["w2"], "both workers got work"


def test_an_expired_lease_returns_the_item(db):
    fill_inbox(db, 1, prefix="E")
    first = db.execute("SELECT id, lease_owner FROM tr_claim_orders('dying-worker', 1, '200 milliseconds')").fetchall()
    assert first == [("E00001", "dying-worker")]
    assert db.execute("SELECT count(*) FROM tr_claim_orders('other', 1)").fetchone()[0] == 0, "the lease still holds"
    time.sleep(0.3)
    second = db.execute("SELECT id, lease_owner, claim_count FROM tr_claim_orders('other', 1)").fetchall()
    assert second == [("E00001", "other", 2)]
