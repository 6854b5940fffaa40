"""Reading a run's dispatch records (the store's ``batches``): where each evaluation ran.

The store keeps one evaluation per behaviour (``UNIQUE(fingerprint, suite)``), so a batch
that ran twice cannot be seen in ``evaluations``; these checks read the batches the
controller sent and what came back of each instead.
"""

import json
import sqlite3
from collections import Counter


def query(run_dir, sql, *args):
    db = sqlite3.connect(f"file:{run_dir}/run.sqlite?mode=ro", uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def batches(run_dir) -> list[dict]:
    """Every batch sent, in the order sent, its program ids decoded."""
    rows = query(run_dir, "SELECT id, kind, actor, attempt, programs, submitted, worker, "
                          "finished, outcome, rejected FROM batches ORDER BY id")
    keys = ("id", "kind", "actor", "attempt", "programs", "submitted", "worker", "finished",
            "outcome", "rejected")
    return [dict(zip(keys, row), programs=json.loads(row[4])) for row in rows]


def assert_each_result_stored_once(run_dir):
    """No batch was left in flight, no program came back from two batches, the store
    turned no result away as already held, and the evaluations stored are exactly the
    results that came back (each from one batch that held its program)."""
    sent = batches(run_dir)
    assert sent and all(b["outcome"] in ("ok", "died", "failed", "lost") for b in sent)
    assert sum(b["rejected"] for b in sent) == 0
    answered = Counter((b["kind"], pid) for b in sent if b["outcome"] == "ok"
                       for pid in b["programs"])
    assert max(answered.values()) == 1, [k for k, n in answered.items() if n > 1]
    stored = query(run_dir, "SELECT suite = 'proxy', program FROM evaluations")
    assert Counter(("proxy" if proxy else "meta", pid) for proxy, pid in stored) == answered


def assert_went_again_once(run_dir, batch_ids):
    """Each program of the batches ``batch_ids`` (which brought nothing back: their
    actor died, or the controller stopped) came back from exactly one batch, sent after
    them as another attempt (attempt >= 2). Returns the batches that brought them back."""
    sent = {b["id"]: b for b in batches(run_dir)}
    redone = []
    for batch_id in batch_ids:
        lost = sent[batch_id]
        assert lost["outcome"] in ("died", "lost") and lost["worker"] is None, lost
        for pid in lost["programs"]:
            back = [b for b in sent.values() if b["outcome"] == "ok"
                    and b["kind"] == lost["kind"] and pid in b["programs"]]
            assert len(back) == 1, (pid, back)
            assert back[0]["id"] > batch_id and back[0]["attempt"] >= 2, (pid, back)
            redone.append(back[0])
    return redone
