-- Hotline call records, schema version 2 (SQLite dialect): steps keyed by a small integer
-- call id instead of the 34-byte call SID.
--
-- Why: Twilio SIDs are random, so a steps primary key that starts with the SID scatters every
-- webhook's rows over the whole table, and each commit rewrites (and fsyncs through the WAL) one
-- page per call written. Call ids are handed out in arrival order, so the steps of the calls in
-- progress sit together at the end of the table: a commit of many calls touches a few pages.
--
-- `calls.id` is the rowid. A call whose steps were appended before `call_started` gets a stub
-- row (only `call_sid`, `started_at_ms` NULL) that queries skip and `call_started` fills in.
CREATE TABLE calls_v2 (
    id            INTEGER PRIMARY KEY,
    call_sid      TEXT    NOT NULL UNIQUE,
    flow_id       TEXT,
    flow_version  TEXT,
    from_number   TEXT,
    to_number     TEXT,
    started_at_ms INTEGER,
    ended_at_ms   INTEGER,
    outcome       TEXT,
    last_node     TEXT
);
INSERT INTO calls_v2 (call_sid, flow_id, flow_version, from_number, to_number, started_at_ms,
                      ended_at_ms, outcome, last_node)
    SELECT call_sid, flow_id, flow_version, from_number, to_number, started_at_ms,
           ended_at_ms, outcome, last_node
    FROM calls ORDER BY started_at_ms, call_sid;
INSERT INTO calls_v2 (call_sid)
    SELECT DISTINCT call_sid FROM steps WHERE call_sid NOT IN (SELECT call_sid FROM calls)
    ORDER BY call_sid;

CREATE TABLE steps_v2 (
    call_id    INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    at_ms      INTEGER NOT NULL,
    node       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    route      TEXT,
    speech     TEXT,
    confidence REAL,
    digits     TEXT,
    detail     TEXT,
    PRIMARY KEY (call_id, seq)
) WITHOUT ROWID;
INSERT INTO steps_v2 (call_id, seq, at_ms, node, kind, route, speech, confidence, digits, detail)
    SELECT c.id, s.seq, s.at_ms, s.node, s.kind, s.route, s.speech, s.confidence, s.digits, s.detail
    FROM steps s JOIN calls_v2 c ON c.call_sid = s.call_sid
    ORDER BY c.id, s.seq;

DROP TABLE steps;
DROP TABLE calls;
ALTER TABLE calls_v2 RENAME TO calls;
ALTER TABLE steps_v2 RENAME TO steps;
CREATE INDEX calls_by_flow ON calls (flow_id, flow_version, started_at_ms);
CREATE INDEX calls_by_start ON calls (started_at_ms);
