-- Deploy trader:tr_ulid
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
    v_out  text   := '';
BEGIN
    IF v_ms < 0 OR v_ms >= (1::bigint << 48) THEN
        RAISE EXCEPTION USING ERRCODE = '22008', MESSAGE = format('tr_ulid: time %s is outside the ULID range', p_at),
            HINT = 'ULIDs encode milliseconds since 1970 in 48 bits.';
    END IF;
    FOR i IN 0..4 LOOP
        v_hi := (v_hi << 8) | get_byte(v_uuid, i);       -- bytes 0-4: random
        v_lo := (v_lo << 8) | get_byte(v_uuid, 10 + i);  -- bytes 10-14: random
    END LOOP;
    FOR i IN REVERSE 9..0 LOOP
        v_out := v_out || substr(c_alphabet, ((v_ms >> (5 * i)) & 31)::int + 1, 1);
    END LOOP;
    FOR i IN REVERSE 7..0 LOOP
        v_out := v_out || substr(c_alphabet, ((v_hi >> (5 * i)) & 31)::int + 1, 1);
    END LOOP;
    FOR i IN REVERSE 7..0 LOOP
        v_out := v_out || substr(c_alphabet, ((v_lo >> (5 * i)) & 31)::int + 1, 1);
    END LOOP;
    RETURN v_out;
END
$$;

COMMENT ON FUNCTION tr_ulid(timestamptz) IS
    'A ULID (26 characters, Crockford base32, sortable by time to the millisecond) for the time given, now by default. Default id of every Trader table.';

COMMIT;
