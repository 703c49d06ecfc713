-- pgbench script: one append with Pacta's guarantees in PostgreSQL (see
-- schema.sql): take the next position and extend the chain in the head
-- row, then insert the record with the stream's next version, in one
-- transaction committed synchronously.
\set s random(0, 511)
BEGIN;
UPDATE head SET position = position + 1,
  hash = sha256(hash || convert_to('{"type":"ActivityRecorded","date":"2026-10-02","data":{"kind":"letter","participants":["hejtman"],"areas":["tourism","culture"]},"source":{"title":"benchmark","reference":"bench"},"note":"a letter with detailed proposals for cooperation"}', 'UTF8'))
  WHERE id = 1 RETURNING position AS pos \gset
INSERT INTO chained (position, event_id, stream, version, recorded_by, body, hash)
SELECT :pos, gen_random_uuid(), 'partnership/plzensky-kraj--bench-' || :s,
  COALESCE((SELECT max(version) FROM chained WHERE stream = 'partnership/plzensky-kraj--bench-' || :s), 0) + 1,
  'bench',
  '{"type":"ActivityRecorded","date":"2026-10-02","data":{"kind":"letter","participants":["hejtman"],"areas":["tourism","culture"]},"source":{"title":"benchmark","reference":"bench"},"note":"a letter with detailed proposals for cooperation"}',
  h.hash FROM head h WHERE h.id = 1;
END;
