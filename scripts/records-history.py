#!/usr/bin/env python3
"""Fills a Hotline SQLite call-record database (already migrated, e.g. by one `hotline serve`
start) with N finished calls of the French triage flow, 10 steps each, as months of use would
leave it: random call SIDs, call ids and step rows in arrival order. Used to measure the server
against a large database (BENCHMARKS.md, issue 3).
    scripts/records-history.py DB CALLS
"""
import os
import sqlite3
import sys

db, calls = sys.argv[1], int(sys.argv[2])
conn = sqlite3.connect(db)
conn.execute("PRAGMA journal_mode=WAL")
(version,) = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
if version != 3:
    sys.exit(f"{db}: schema version {version}, this script writes version 3")
nodes = ["accueil", "question-covid", "symptome-1", "symptome-2", "symptome-3", "symptome-4"]
start = 1_700_000_000_000
with conn:
    (first,) = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM calls").fetchone()
    for i in range(calls):
        sid = "CA" + os.urandom(16).hex()
        at = start + i * 50
        conn.execute(
            "INSERT INTO calls (id, call_sid, flow_id, flow_version, from_number, to_number, "
            "started_at_ms, ended_at_ms, outcome, last_node) VALUES (?, ?, 'covid-triage-fr', "
            "'v1', '+33612345678', '+33100000000', ?, ?, 'completed', 'symptome-4')",
            (first + i, sid, at, at + 60_000),
        )
        conn.executemany(
            "INSERT INTO steps (call_id, seq, at_ms, node, kind, route, speech, confidence, "
            "digits, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            [
                (first + i, seq, at + seq * 5000, nodes[seq % len(nodes)],
                 ["entered", "heard", "matched"][seq % 3],
                 "oui" if seq % 3 == 2 else None,
                 "oui j'ai de la fièvre" if seq % 3 == 1 else None,
                 0.91 if seq % 3 == 1 else None,
                 'said "Avez-vous de la fièvre ?"' if seq % 3 == 0 else None)
                for seq in range(1, 11)
            ],
        )
conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
print(f"{db}: {calls} calls added, {os.path.getsize(db) / 1e6:.0f} MB")
