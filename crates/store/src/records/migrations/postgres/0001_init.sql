-- Hotline call records, schema version 1 (PostgreSQL dialect).
CREATE TABLE calls (
    call_sid      TEXT   NOT NULL PRIMARY KEY,
    flow_id       TEXT   NOT NULL,
    flow_version  TEXT   NOT NULL,
    from_number   TEXT   NOT NULL,
    to_number     TEXT   NOT NULL,
    started_at_ms BIGINT NOT NULL,
    ended_at_ms   BIGINT,
    outcome       TEXT,
    last_node     TEXT
);
CREATE INDEX calls_by_flow ON calls (flow_id, flow_version, started_at_ms);
CREATE INDEX calls_by_start ON calls (started_at_ms);

CREATE TABLE steps (
    call_sid   TEXT   NOT NULL,
    seq        BIGINT NOT NULL,
    at_ms      BIGINT NOT NULL,
    node       TEXT   NOT NULL,
    kind       TEXT   NOT NULL,
    route      TEXT,
    speech     TEXT,
    confidence REAL,
    digits     TEXT,
    detail     TEXT,
    PRIMARY KEY (call_sid, seq)
);
