-- Hotline call records, schema version 3 (SQLite dialect): steps appended in commit order.
--
-- Why: version 2 kept the steps in a WITHOUT ROWID table keyed by (call_id, seq). Every call in
-- progress appends to its own place in that key order, so with many calls at once a commit of
-- one step per call dirtied (and wrote to the WAL) about one leaf page per call, inserted in the
-- middle of full pages, and split pages in the middle of the tree. A page split there makes
-- SQLite renumber pages through a temporary page number past the 1 GiB lock byte, and the next
-- commit then scans the whole page cache for pages to drop.
--
-- Now the rows of a table with an integer primary key are appended at its end, a few pages per
-- commit whatever the number of calls; the unique index on (call_id, seq) keeps the steps'
-- identity (first write wins) and finds a call's steps in order, with small entries.
CREATE TABLE steps_v3 (
    id         INTEGER PRIMARY KEY,
    call_id    INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    at_ms      INTEGER NOT NULL,
    node       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    route      TEXT,
    speech     TEXT,
    confidence REAL,
    digits     TEXT,
    detail     TEXT
);
INSERT INTO steps_v3 (call_id, seq, at_ms, node, kind, route, speech, confidence, digits, detail)
    SELECT call_id, seq, at_ms, node, kind, route, speech, confidence, digits, detail
    FROM steps ORDER BY call_id, seq;
DROP TABLE steps;
ALTER TABLE steps_v3 RENAME TO steps;
CREATE UNIQUE INDEX steps_by_call ON steps (call_id, seq);
