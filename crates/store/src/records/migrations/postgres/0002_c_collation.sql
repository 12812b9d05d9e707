-- Hotline call records, schema version 2 (PostgreSQL dialect): call SIDs compare bytewise.
--
-- SIDs are ASCII (`CA` + 32 hex digits); under the database's default collation every index
-- comparison of the `steps` and `calls` keys goes through the locale (strcoll). With
-- COLLATE "C" it is a memcmp. Rewrites both tables and their indexes once.
ALTER TABLE calls ALTER COLUMN call_sid TYPE TEXT COLLATE "C";
ALTER TABLE steps ALTER COLUMN call_sid TYPE TEXT COLLATE "C";
