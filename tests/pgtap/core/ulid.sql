BEGIN;
SELECT plan(6);

SELECT matches(tr_ulid(), '^[0-9A-HJKMNP-TV-Z]{26}$', 'a ULID is 26 characters of Crockford base32');
SELECT is(left(tr_ulid('1970-01-01 00:00:00+00'), 10), '0000000000', 'the epoch encodes as ten zeros');
SELECT is(left(tr_ulid('2020-01-01 00:00:00+00'), 10), '01DXF6DT00', 'the first ten characters encode the milliseconds');
SELECT ok(tr_ulid('2026-01-01 00:00:00.001+00') > tr_ulid('2026-01-01 00:00:00+00'), 'a later millisecond sorts after an earlier one');
SELECT is((SELECT count(DISTINCT tr_ulid('2026-01-01+00')) FROM generate_series(1, 1000)), 1000::bigint,
          'a thousand ULIDs in one millisecond are all different');
SELECT throws_ok($$SELECT tr_ulid('1969-12-31 23:59:59+00')$$, '22008', NULL, 'a time before 1970 is refused');

SELECT * FROM finish();
ROLLBACK;
