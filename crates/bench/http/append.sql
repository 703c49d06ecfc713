-- pgbench script: the same append in PostgreSQL, an events table with a
-- unique event id and a per-stream index, committed synchronously.
\set s random(0, 511)
INSERT INTO events (event_id, stream, recorded_by, body)
VALUES (gen_random_uuid(), 'partnership/plzensky-kraj--bench-' || :s, 'bench',
  '{"type":"ActivityRecorded","date":"2026-10-02","data":{"kind":"letter","participants":["hejtman"],"areas":["tourism","culture"]},"source":{"title":"benchmark","reference":"bench"},"note":"a letter with detailed proposals for cooperation"}');
