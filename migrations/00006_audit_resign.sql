-- +goose Up

-- audit_resign re-signs the chain head and checkpoints under a new MAC key
-- after a key rotation (console secrets rekey), so that the old key can be
-- dropped. It changes MACs and nothing else: no position, hash or kind
-- moves, and each MAC only from the one the caller names, which must be the
-- one there now. So the runtime role can sign again what the chain already
-- vouches for, never make a checkpoint vouch for something else. (It holds
-- the key anyway: it signs the head on every seal.) The caller verifies the
-- chain with every key first, under the sealing lock that this takes too.
-- +goose StatementBegin
CREATE FUNCTION audit_resign(seqs bigint[], old_macs bytea[], new_macs bytea[],
                             head_seq bigint, head_old_mac bytea, head_new_mac bytea)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    n       integer := cardinality(seqs);
    changed integer;
BEGIN
    IF n IS NULL OR array_ndims(seqs) > 1 OR cardinality(old_macs) IS DISTINCT FROM n
       OR cardinality(new_macs) IS DISTINCT FROM n OR array_position(seqs, NULL) IS NOT NULL
       OR EXISTS (SELECT 1 FROM unnest(old_macs, new_macs) AS m(o, w)
                  WHERE o IS NULL OR w IS NULL OR octet_length(o) <> 32 OR octet_length(w) <> 32)
       OR (head_seq IS NULL) <> (head_old_mac IS NULL) OR (head_seq IS NULL) <> (head_new_mac IS NULL)
       OR octet_length(head_old_mac) <> 32 OR octet_length(head_new_mac) <> 32 THEN
        RAISE EXCEPTION 'audit_resign: want as many checkpoint positions as old and new 32-byte MACs, and the head''s position with its old and new MAC or none of them'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The sealing lock (store.auditSealLock): no seal or prune moves the chain meanwhile.
    PERFORM pg_advisory_xact_lock(8818999652145263665);
    UPDATE audit_checkpoints c SET mac = u.new_mac
        FROM unnest(seqs, old_macs, new_macs) AS u(seq, old_mac, new_mac)
        WHERE c.chain_seq = u.seq AND c.mac = u.old_mac;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed <> n THEN
        RAISE EXCEPTION 'audit_resign: % of the % checkpoints are missing, repeated or not signed with the MAC given', n - changed, n
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF head_seq IS NOT NULL THEN
        UPDATE audit_chain_head SET mac = head_new_mac WHERE chain_seq = head_seq AND mac = head_old_mac;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'audit_resign: the signed head is not at seq % with the MAC given', head_seq
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    RETURN n;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION audit_resign(bigint[], bytea[], bytea[], bigint, bytea, bytea) SET search_path = %I, pg_temp',
        current_schema());
END;
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION audit_resign(bigint[], bytea[], bytea[], bigint, bytea, bytea) FROM PUBLIC;

INSERT INTO runtime_privileges (kind, object, privileges, reason) VALUES
    ('function', 'audit_resign(bigint[], bytea[], bytea[], bigint, bytea, bytea)', 'EXECUTE',
        're-sign the chain head and checkpoints under a new key after a rotation (console secrets rekey); only MACs change');
SELECT regrant_runtime_roles();

-- +goose Down
DELETE FROM runtime_privileges WHERE object = 'audit_resign(bigint[], bytea[], bytea[], bigint, bytea, bytea)';
DROP FUNCTION audit_resign(bigint[], bytea[], bytea[], bigint, bytea, bytea);
