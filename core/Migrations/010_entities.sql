-- Entity API (issue 3). The API key's public prefix locates its row; the hash is compared after.
CREATE UNIQUE INDEX api_keys_key_prefix ON api_keys (key_prefix);

-- "Still referenced" checks before deleting a credential profile.
CREATE INDEX devices_credential_profile ON devices (credential_profile_id) WHERE credential_profile_id IS NOT NULL;
