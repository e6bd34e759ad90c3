-- Deploy trader:core/ulid
BEGIN;

-- 48 bits of milliseconds then 80 random bits, in Crockford base32: 26 characters
-- that sort by time. The random bits are the version-free bytes of a v4 UUID, so no
-- extension is needed. clock_timestamp(), not now(): ids made in one transaction
-- must still carry the time they were made.
CREATE FUNCTION tr_ulid(p_at timestamptz DEFAULT clock_timestamp())
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_alphabet CONSTANT text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    v_ms   bigint := floor(extract(epoch FROM p_at) * 1000)::bigint;
    v_uuid bytea  := uuid_send(gen_random_uuid());
    v_hi   bigint := 0;
    v_lo   bigint := 0;
    v_out  text;
BEGIN
    IF v_ms < 0 OR v_ms >= (1::bigint << 48) THEN
        RAISE EXCEPTION USING ERRCODE = '22008', MESSAGE = format('tr_ulid: time %s is outside the ULID range', p_at),
            HINT = 'ULIDs encode milliseconds since 1970 in 48 bits.';
    END IF;
    FOR i IN 0..4 LOOP
        v_hi := (v_hi << 8) | get_byte(v_uuid, i);       -- bytes 0-4: random
        v_lo := (v_lo << 8) | get_byte(v_uuid, 10 + i);  -- bytes 10-14: random
    END LOOP;
    -- One expression for the 26 characters (10 of time, 8 and 8 of randomness):
    -- a loop of assignments costs several times more per id.
    v_out :=
        substr(c_alphabet, ((v_ms >> 45) & 31)::int + 1, 1) || substr(c_alphabet, ((v_ms >> 40) & 31)::int + 1, 1) ||
        substr(c_alphabet, ((v_ms >> 35) & 31)::int + 1, 1) || substr(c_alphabet, ((v_ms >> 30) & 31)::int + 1, 1) ||
        substr(c_alphabet, ((v_ms >> 25) & 31)::int + 1, 1) || substr(c_alphabet, ((v_ms >> 20) & 31)::int + 1, 1) ||
        substr(c_alphabet, ((v_ms >> 15) & 31)::int + 1, 1) || substr(c_alphabet, ((v_ms >> 10) & 31)::int + 1, 1) ||
        substr(c_alphabet, ((v_ms >> 5) & 31)::int + 1, 1) || substr(c_alphabet, ((v_ms >> 0) & 31)::int + 1, 1) ||
        substr(c_alphabet, ((v_hi >> 35) & 31)::int + 1, 1) || substr(c_alphabet, ((v_hi >> 30) & 31)::int + 1, 1) ||
        substr(c_alphabet, ((v_hi >> 25) & 31)::int + 1, 1) || substr(c_alphabet, ((v_hi >> 20) & 31)::int + 1, 1) ||
        substr(c_alphabet, ((v_hi >> 15) & 31)::int + 1, 1) || substr(c_alphabet, ((v_hi >> 10) & 31)::int + 1, 1) ||
        substr(c_alphabet, ((v_hi >> 5) & 31)::int + 1, 1) || substr(c_alphabet, ((v_hi >> 0) & 31)::int + 1, 1) ||
        substr(c_alphabet, ((v_lo >> 35) & 31)::int + 1, 1) || substr(c_alphabet, ((v_lo >> 30) & 31)::int + 1, 1) ||
        substr(c_alphabet, ((v_lo >> 25) & 31)::int + 1, 1) || substr(c_alphabet, ((v_lo >> 20) & 31)::int + 1, 1) ||
        substr(c_alphabet, ((v_lo >> 15) & 31)::int + 1, 1) || substr(c_alphabet, ((v_lo >> 10) & 31)::int + 1, 1) ||
        substr(c_alphabet, ((v_lo >> 5) & 31)::int + 1, 1) || substr(c_alphabet, ((v_lo >> 0) & 31)::int + 1, 1);
    RETURN v_out;
END
$$;

COMMENT ON FUNCTION tr_ulid(timestamptz) IS
    'A ULID (26 characters, Crockford base32, sortable by time to the millisecond) for the time given, now by default. Default id of every Trader table.';

COMMIT;
