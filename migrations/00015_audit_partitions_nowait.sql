-- +goose Up

-- The partition maker can no longer deadlock with a reader of the trail.
-- CREATE TABLE … PARTITION OF takes ACCESS EXCLUSIVE on the parent and its
-- default partition, and creating a month takes the three parents one after
-- the other; readers take them in other orders (the text indexer: the texts,
-- then the events), so that the maker, holding the events while it waited
-- for the texts, closed a cycle with the indexer, which held the texts while
-- it waited for the events.
--
-- audit_partitions_cover is now a wrapper: when a month is missing it first
-- takes every lock that creating months needs at once, without waiting
-- (NOWAIT), and when one is held lets go of all and tries again a little
-- later, so that it never waits while holding part of the trail. After ten
-- tries (about four seconds) it waits, so that it cannot starve under
-- constant load; the workers that may then be a deadlock's victim try their
-- batch again (store.retryDeadlocked). Then audit_partitions_make, the
-- function 00014 made, creates the months; holding the locks before it looks
-- into the default partitions also keeps a row from reaching them between
-- the look and the creation.
ALTER FUNCTION audit_partitions_cover(timestamptz, timestamptz) RENAME TO audit_partitions_make;

-- +goose StatementBegin
CREATE FUNCTION audit_partitions_cover(first timestamptz, last timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    locked boolean := false;
BEGIN
    -- A range it refuses, or one whose every month is there: no lock.
    IF first IS NULL OR last IS NULL OR last < first OR last > first + interval '100 years'
       OR NOT EXISTS (SELECT 1 FROM generate_series(date_trunc('month', first, 'UTC') AT TIME ZONE 'UTC', last AT TIME ZONE 'UTC', interval '1 month') AS m
                      WHERE to_regclass(format('audit_events_p%s', to_char(m, 'YYYYMM'))) IS NULL) THEN
        RETURN audit_partitions_make(first, last);
    END IF;
    FOR try IN 1..10 LOOP
        BEGIN
            LOCK TABLE ONLY audit_events, ONLY audit_chain, ONLY audit_text,
                audit_events_default, audit_chain_default, audit_text_default IN ACCESS EXCLUSIVE MODE NOWAIT;
            locked := true;
        EXCEPTION WHEN lock_not_available THEN
            PERFORM pg_sleep(least(0.01 * 2 ^ (try - 1), 1) * (0.5 + random()));
        END;
        EXIT WHEN locked;
    END LOOP;
    IF NOT locked THEN
        LOCK TABLE ONLY audit_events, ONLY audit_chain, ONLY audit_text,
            audit_events_default, audit_chain_default, audit_text_default IN ACCESS EXCLUSIVE MODE;
    END IF;
    RETURN audit_partitions_make(first, last);
END;
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION audit_partitions_cover(timestamptz, timestamptz) FROM PUBLIC;
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION audit_partitions_cover(timestamptz, timestamptz) SET search_path = %I, pg_temp', current_schema());
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION audit_partitions_cover(timestamptz, timestamptz);
ALTER FUNCTION audit_partitions_make(timestamptz, timestamptz) RENAME TO audit_partitions_cover;
