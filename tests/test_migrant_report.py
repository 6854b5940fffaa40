"""``benchmarks/migrant_report.py``: what migration did in a run, from its store."""

import importlib.util
from pathlib import Path

from search.store import RunStore

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "migrant_report.py"


def load_report():
    spec = importlib.util.spec_from_file_location("migrant_report", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migrants_that_raised_their_island_and_the_best_lineage(tmp_path):
    store = RunStore.create(tmp_path / "seed-0", {"seed": 0, "islands": 2})

    def add(parent, mutation, island, fitness):
        pid = store.add_program(f"def train(w, g, m, v, lr):  # {mutation} {fitness}\n",
                                parent, mutation, island, f"h{fitness}", f"f{fitness}",
                                3, 0)
        store.join([pid], fitness, cache_hit=mutation.startswith("migrant"))
        return pid

    warm0, warm1 = add(None, "warm start", 0, 0.1), add(None, "warm start", 1, 0.1)
    a = add(warm0, "modify", 0, 0.3)          # island 0's best so far
    add(warm1, "modify", 1, 0.2)              # island 1's
    add(a, "migrant from island 0", 1, 0.3)   # raises island 1 (0.3 > 0.2)
    b = add(warm1, "insert", 1, 0.25)
    m = add(b, "migrant from island 1", 0, 0.25)  # does not raise island 0 (0.25 < 0.3)
    add(m, "modify", 0, 0.4)                  # the best, one migration up its lineage
    store.close()

    row = load_report().migrants_of(tmp_path / "seed-0")
    assert (row["migrants"], row["raised_the_receiving_islands_best"]) == (2, 1)
    assert (row["migrations_in_the_best_lineage"], row["lineage_length"]) == (1, 4)
