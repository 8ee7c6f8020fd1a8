-- Poll profiles (issue 15): what a poll reads, like an snmp_exporter module. The definition is the plugin
-- contract's shape (scalars, tables with index labels and lookups, max_requests), validated by the API.
-- A device or discovery profile without one polls the plugin's default set; a profile in use cannot be deleted.
CREATE TABLE poll_profiles (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    definition  jsonb NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

ALTER TABLE devices ADD COLUMN poll_profile_id bigint
    CONSTRAINT devices_poll_profile_id_fkey REFERENCES poll_profiles (id) ON DELETE RESTRICT;
ALTER TABLE discovery_profiles ADD COLUMN poll_profile_id bigint
    CONSTRAINT discovery_profiles_poll_profile_id_fkey REFERENCES poll_profiles (id) ON DELETE RESTRICT;

-- The delete check and "which devices use it" look up by profile.
CREATE INDEX devices_poll_profile_id ON devices (poll_profile_id) WHERE poll_profile_id IS NOT NULL;
CREATE INDEX discovery_profiles_poll_profile_id ON discovery_profiles (poll_profile_id) WHERE poll_profile_id IS NOT NULL;
