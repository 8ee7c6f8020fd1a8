-- SNMPv1 community credentials (issue 15). The auth and priv protocol names live in settings jsonb
-- and are checked by the API, so only the protocol list changes here.
ALTER TABLE credential_profiles DROP CONSTRAINT credential_profiles_protocol_check;
ALTER TABLE credential_profiles ADD CONSTRAINT credential_profiles_protocol_check
    CHECK (protocol IN ('snmp_v1', 'snmp_v2c', 'snmp_v3', 'ssh'));
