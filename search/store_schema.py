"""The run store's SQL schema and format (:mod:`search.store` reads and writes it): the
tables of a run database, and the columns added since the format's first version."""

FORMAT = "lion-search-run/1"
# Columns added since the format's first version: (table, column, declaration). A run
# made before them gets them when it is opened for writing; readers treat them as absent.
ADDED_COLUMNS = (
    ("programs", "update_scale", "REAL NOT NULL DEFAULT 1.0"),
    ("evaluations", "multipliers", "TEXT"),
    ("evaluations", "runs", "REAL NOT NULL DEFAULT 1.0"),
    ("evaluations", "seeds", "INTEGER"),
)
DATABASE = "run.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS programs (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    parent INTEGER REFERENCES programs(id),
    mutation TEXT NOT NULL,
    island INTEGER NOT NULL,
    born REAL NOT NULL,
    structural_hash TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    statements INTEGER NOT NULL,
    redundant INTEGER NOT NULL,
    update_scale REAL NOT NULL DEFAULT 1.0,
    fitness REAL,
    cache_hit INTEGER NOT NULL DEFAULT 0,
    epoch_start INTEGER NOT NULL DEFAULT 0,
    joined INTEGER UNIQUE
);
CREATE INDEX IF NOT EXISTS programs_fingerprint ON programs(fingerprint);
CREATE INDEX IF NOT EXISTS programs_island_joined ON programs(island, joined);
CREATE TABLE IF NOT EXISTS evaluations (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    program INTEGER NOT NULL REFERENCES programs(id),
    suite TEXT NOT NULL,
    fitness REAL NOT NULL,
    losses TEXT NOT NULL,
    task_fitness TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    seconds REAL NOT NULL,
    worker TEXT NOT NULL,
    finished REAL NOT NULL,
    multipliers TEXT,
    runs REAL NOT NULL DEFAULT 1.0,
    seeds INTEGER,
    UNIQUE (fingerprint, suite)
);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    actor INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    programs TEXT NOT NULL,
    submitted REAL NOT NULL,
    worker TEXT,
    finished REAL,
    outcome TEXT,
    rejected INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS stats (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    elapsed REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    data TEXT NOT NULL
);
"""
