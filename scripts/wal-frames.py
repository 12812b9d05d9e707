#!/usr/bin/env python3
"""The WAL frames each commit of a Hotline records database writes, by b-tree.

Reads DB-wal's current generation (the frames whose salts match the WAL header), cuts it into
commits (a frame with a non-zero database size ends one) and names each frame's page with
SQLite's `dbstat` over a copy of DB and its WAL. Take the copy from a server under load paused
with SIGSTOP, e.g.
    kill -STOP PID; cp records.db records.db-wal /tmp/w/; kill -CONT PID
    python3 scripts/wal-frames.py /tmp/w/records.db
"""
import collections
import shutil
import sqlite3
import struct
import sys
import tempfile
from pathlib import Path


def main(db: Path) -> None:
    wal = (db.parent / (db.name + "-wal")).read_bytes()
    _, _, page_size, _, salt1, salt2, _, _ = struct.unpack(">IIIIIIII", wal[:32])
    frames, offset, size = [], 32, 24 + page_size
    while offset + size <= len(wal):
        page, db_size, s1, s2 = struct.unpack(">IIII", wal[offset : offset + 16])
        if (s1, s2) != (salt1, salt2):
            break
        frames.append((page, db_size))
        offset += size
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy.db"
        shutil.copy(db, copy)
        shutil.copy(db.parent / (db.name + "-wal"), Path(tmp) / "copy.db-wal")
        with sqlite3.connect(copy) as con:
            btree = {page: name for name, page in con.execute("SELECT name, pageno FROM dbstat")}
    commits, current = [], []
    for page, db_size in frames:
        current.append(page)
        if db_size:
            commits.append(current)
            current = []
    if not commits:
        sys.exit("no complete commit in the WAL's current generation")
    per_btree = collections.Counter(btree.get(p, "?") for c in commits for p in c)
    print(f"{len(commits)} commits, {sum(map(len, commits)) / len(commits):.1f} frames per commit")
    for name, n in per_btree.most_common():
        print(f"  {name}: {n / len(commits):.2f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: wal-frames.py RECORDS.db (with RECORDS.db-wal beside it)")
    main(Path(sys.argv[1]))
