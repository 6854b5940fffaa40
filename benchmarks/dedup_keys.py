"""How many evaluations each cache key saves, on the programs of one real run.

Reads every program a run generated (its run directory, read-only) and counts, in the
order they were made, how many would have been cache hits under each key: the plain
funcsim fingerprint (the key when the step size is fixed) and the scale-free one (the
key when it is tuned, :func:`programs.funcsim.scale_free_fingerprint`). The same
program stream is keyed both ways, so the two rates are side by side. Restarts and
in-flight waits are counted as hits too (a program whose key was seen before).

Usage::

    python benchmarks/dedup_keys.py runs/quickstart-...           # JSON
"""

from __future__ import annotations

import argparse
import json
import sys

from programs.funcsim import fingerprint, scale_free_fingerprint
from programs.hashing import structural_hash
from programs.parser import parse
from search.store import RunStore


def dedup_rates(directory: str) -> dict:
    """``{"programs", "plain", "scale_free"}``: hit rates and distinct keys."""
    store = RunStore.open_readonly(directory)
    try:
        sources = [row[0] for row in store.db.execute("SELECT source FROM programs "
                                                      "ORDER BY id")]
    finally:
        store.close()
    keys = {"plain": [], "scale_free": []}
    known = {}  # structural hash -> (plain, scale-free): the search's own shortcut
    for source in sources:
        program = parse(source)
        shash = structural_hash(program)
        if shash not in known:
            known[shash] = (fingerprint(program), scale_free_fingerprint(program)[0])
        keys["plain"].append(known[shash][0])
        keys["scale_free"].append(known[shash][1])
    result = {"programs": len(sources)}
    for name, values in keys.items():
        distinct = len(set(values))
        result[name] = {"distinct": distinct,
                        "hit_rate": round(1 - distinct / len(values), 4) if values else 0.0}
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a run directory")
    args = parser.parse_args(argv)
    print(json.dumps(dedup_rates(args.run)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
