// Numbered migrations: entry N is version N+1. Never edit one that has shipped; add another.
export const MIGRATIONS: readonly string[] = [
  /* 1: PKI core, change feed, audit */ `
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  -- Every write appends here in the same transaction; other processes poll it.
  CREATE TABLE changes (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    ref  TEXT NOT NULL,
    at   INTEGER NOT NULL
  );

  -- Append-only: nothing in the code updates or deletes a row.
  CREATE TABLE audit (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    source TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT
  );
  CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit records are immutable'); END;
  CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit records are immutable'); END;

  -- Private keys, sealed with the master key that lives outside the database.
  CREATE TABLE keys (
    id         TEXT PRIMARY KEY,
    algorithm  TEXT NOT NULL,
    sealed     BLOB NOT NULL,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE cas (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('root', 'issuing')),
    parent_id     INTEGER REFERENCES cas(id),
    key_id        TEXT NOT NULL REFERENCES keys(id),
    cert_der      BLOB NOT NULL,
    crl_number    INTEGER NOT NULL DEFAULT 0,
    ocsp_key_id   TEXT REFERENCES keys(id),
    ocsp_cert_der BLOB,
    created_at    INTEGER NOT NULL
  );

  CREATE TABLE certificates (
    ca_id          INTEGER NOT NULL REFERENCES cas(id),
    serial         TEXT NOT NULL,
    profile        TEXT NOT NULL,
    subject        TEXT NOT NULL,
    common_name    TEXT NOT NULL,
    username       TEXT,
    sans           TEXT NOT NULL DEFAULT '[]',
    not_before     INTEGER NOT NULL,
    not_after      INTEGER NOT NULL,
    issued_at      INTEGER NOT NULL,
    der            BLOB NOT NULL,
    status         TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked', 'hold')),
    revoked_at     INTEGER,
    reason         INTEGER,
    PRIMARY KEY (ca_id, serial)
  ) WITHOUT ROWID;
  CREATE INDEX certificates_serial ON certificates(serial);
  CREATE INDEX certificates_username ON certificates(username);
  CREATE INDEX certificates_cn ON certificates(common_name);

  CREATE TABLE crls (
    ca_id       INTEGER PRIMARY KEY REFERENCES cas(id),
    number      INTEGER NOT NULL,
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL,
    der         BLOB NOT NULL
  );
  `,
  /* 2: local users (issue 3), shaped for profile columns, lockout and directory users later */ `
  -- AUTOINCREMENT: an id is never reused, because it is bound into the sealed NT hash.
  CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    username       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    -- scrypt$N$r$p$salt$hash (base64); NULL for a user who authenticates elsewhere.
    password_hash  TEXT,
    -- MD4 NT hash for MS-CHAPv2, AES-256-GCM under the master key, AAD "user:<id>".
    nt_hash_sealed BLOB,
    enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    source         TEXT NOT NULL DEFAULT 'local',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
  );

  CREATE TABLE user_groups (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    group_name TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (user_id, group_name)
  ) WITHOUT ROWID;
  CREATE INDEX user_groups_group ON user_groups(group_name);
  `,
  /* 3: RADIUS clients (issue 3) */ `
  CREATE TABLE nas_clients (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    -- Canonical CIDR text (network address / prefix), IPv4 or IPv6.
    address       TEXT NOT NULL UNIQUE,
    -- The shared secret, AES-256-GCM under the master key, AAD "nas:<name>".
    secret_sealed BLOB NOT NULL,
    kind          TEXT NOT NULL DEFAULT 'wlan' CHECK (kind IN ('wlan', 'vpn', 'gateway', 'switch')),
    -- BlastRADIUS (CVE-2024-3596): 0 only for legacy gear that cannot send a Message-Authenticator.
    require_message_authenticator INTEGER NOT NULL DEFAULT 1 CHECK (require_message_authenticator IN (0, 1)),
    created_at    INTEGER NOT NULL
  );
  `,
  /* 4: authorization policy (issue 3): per group reply attributes, per client kind allowed methods */ `
  CREATE TABLE group_policies (
    group_name      TEXT PRIMARY KEY COLLATE NOCASE,
    -- A VLAN ID (1-4094) or name, sent as Tunnel-Private-Group-Id (RFC 3580 §3.31).
    vlan            TEXT,
    session_timeout INTEGER,
    filter_id       TEXT,
    class           TEXT,
    -- Lower wins when a user is in several groups with policies; then the group name.
    priority        INTEGER NOT NULL DEFAULT 100
  ) WITHOUT ROWID;

  -- A kind without a row allows every method.
  CREATE TABLE kind_methods (
    kind    TEXT PRIMARY KEY CHECK (kind IN ('wlan', 'vpn', 'gateway', 'switch')),
    -- JSON array of method names (pap, mschapv2, eap-tls, peap, ttls).
    methods TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  /* 5: accounting sessions and the decision log (issue 3) */ `
  -- One row per accounting session: a NAS (client name and source address) and its Acct-Session-Id.
  CREATE TABLE acct_sessions (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    nas                TEXT NOT NULL,
    nas_address        TEXT NOT NULL,
    session_id         TEXT NOT NULL,
    username           TEXT COLLATE NOCASE,
    nas_ip             TEXT,
    nas_port           INTEGER,
    nas_identifier     TEXT,
    framed_ip          TEXT,
    calling_station_id TEXT,
    called_station_id  TEXT,
    started_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    stopped_at         INTEGER,
    session_time       INTEGER NOT NULL DEFAULT 0,
    input_octets       INTEGER NOT NULL DEFAULT 0,
    output_octets      INTEGER NOT NULL DEFAULT 0,
    input_packets      INTEGER NOT NULL DEFAULT 0,
    output_packets     INTEGER NOT NULL DEFAULT 0,
    interim_updates    INTEGER NOT NULL DEFAULT 0,
    terminate_cause    TEXT,
    open               INTEGER NOT NULL DEFAULT 1 CHECK (open IN (0, 1))
  );
  CREATE UNIQUE INDEX acct_sessions_key ON acct_sessions(nas, nas_address, session_id);
  CREATE INDEX acct_sessions_user ON acct_sessions(username, id);
  CREATE INDEX acct_sessions_open ON acct_sessions(nas, nas_address) WHERE open = 1;

  -- Every final authentication decision, written in batches; pruned by age. Never a password.
  CREATE TABLE auth_log (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    at                 INTEGER NOT NULL,
    username           TEXT COLLATE NOCASE,
    nas                TEXT NOT NULL,
    nas_address        TEXT NOT NULL,
    calling_station_id TEXT,
    method             TEXT,
    outcome            TEXT NOT NULL CHECK (outcome IN ('accept', 'reject')),
    reason             TEXT,
    details            TEXT
  );
  CREATE INDEX auth_log_at ON auth_log(at);
  CREATE INDEX auth_log_user ON auth_log(username, id);
  `,
  /* 6: CHAP for local users, opt-in per user (RFC 1994 needs the password itself) */ `
  -- The password (UTF-8), AES-256-GCM under the master key, AAD "user:<id>:chap"; NULL
  -- unless CHAP was enabled with --chap. The policy's method names gain 'chap'.
  ALTER TABLE users ADD COLUMN chap_password_sealed BLOB;
  `,
  /* 7: LDAP / Active Directory sources, sync runs, and which users came from where */ `
  -- A directory to sync users from. The bind password is AES-256-GCM under the master key,
  -- AAD "ldap:<name>". ca_pem: the CA that must have signed the server's certificate.
  CREATE TABLE ldap_sources (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    name               TEXT NOT NULL UNIQUE COLLATE NOCASE,
    url                TEXT NOT NULL,
    starttls           INTEGER NOT NULL DEFAULT 0 CHECK (starttls IN (0, 1)),
    ca_pem             TEXT,
    bind_dn            TEXT NOT NULL,
    bind_password_sealed BLOB NOT NULL,
    base_dn            TEXT NOT NULL,
    user_filter        TEXT NOT NULL,
    group_base_dn      TEXT,
    preset             TEXT NOT NULL CHECK (preset IN ('ad', 'openldap')),
    -- JSON object: field -> attribute, overriding the preset.
    attribute_map      TEXT NOT NULL DEFAULT '{}',
    schedule_minutes   INTEGER NOT NULL DEFAULT 15,
    max_disable_share  REAL NOT NULL DEFAULT 0.1,
    cert_policy        TEXT NOT NULL DEFAULT 'keep' CHECK (cert_policy IN ('keep', 'revoke')),
    -- Highest modifyTimestamp / uSNChanged seen; NULL until the first full run.
    watermark          TEXT,
    last_full_at       INTEGER,
    created_at         INTEGER NOT NULL
  );

  CREATE TABLE ldap_sync_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id   INTEGER NOT NULL REFERENCES ldap_sources(id) ON DELETE CASCADE,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    mode        TEXT NOT NULL CHECK (mode IN ('full', 'incremental')),
    dry_run     INTEGER NOT NULL DEFAULT 0 CHECK (dry_run IN (0, 1)),
    added       INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    disabled    INTEGER NOT NULL DEFAULT 0,
    groups      INTEGER NOT NULL DEFAULT 0,
    error       TEXT
  );
  CREATE INDEX ldap_sync_runs_source ON ldap_sync_runs(source_id, id);

  -- A user synced from a directory: the directory's stable id (objectGUID, entryUUID).
  CREATE TABLE ldap_user_links (
    user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    source_id  INTEGER NOT NULL REFERENCES ldap_sources(id),
    remote_id  TEXT NOT NULL,
    dn         TEXT NOT NULL,
    last_seen  INTEGER NOT NULL,
    vanished   INTEGER NOT NULL DEFAULT 0 CHECK (vanished IN (0, 1)),
    -- 1 when the sync disabled the user (vanished, or disabled in the directory): only then
    -- does the sync enable it again; a user an administrator disabled stays disabled.
    sync_disabled INTEGER NOT NULL DEFAULT 0 CHECK (sync_disabled IN (0, 1))
  );
  CREATE UNIQUE INDEX ldap_user_links_remote ON ldap_user_links(source_id, remote_id);
  `,
  /* 8: registered devices (MAC authentication bypass, device certificates) */ `
  CREATE TABLE devices (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Canonical: aa:bb:cc:dd:ee:ff.
    mac         TEXT NOT NULL UNIQUE,
    name        TEXT UNIQUE COLLATE NOCASE,
    owner       TEXT COLLATE NOCASE,
    description TEXT,
    enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  );
  CREATE TABLE device_groups (
    device_id  INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    group_name TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (device_id, group_name)
  ) WITHOUT ROWID;
  -- A certificate issued for a device: kept when the device is removed, so the certificate
  -- is refused ('unknown device') rather than accepted as an unbound one.
  CREATE TABLE device_certificates (
    serial   TEXT PRIMARY KEY,
    mac      TEXT NOT NULL,
    bound_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX device_certificates_mac ON device_certificates(mac);
  `,
  /* 9: account details, expiry, lockout and password history */ `
  ALTER TABLE users ADD COLUMN display_name TEXT;
  ALTER TABLE users ADD COLUMN email TEXT;
  -- ms since the epoch; NULL: never.
  ALTER TABLE users ADD COLUMN account_expires_at INTEGER;
  ALTER TABLE users ADD COLUMN password_changed_at INTEGER;
  -- Locked after too many failed attempts until this time (ms); NULL: not locked.
  ALTER TABLE users ADD COLUMN locked_until INTEGER;
  UPDATE users SET password_changed_at = updated_at WHERE password_hash IS NOT NULL;
  -- Earlier password hashes (scrypt), newest first by changed_at, for the reuse rule.
  CREATE TABLE user_password_history (
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    changed_at    INTEGER NOT NULL
  );
  CREATE INDEX user_password_history_user ON user_password_history(user_id, changed_at);
  `,
  /* 10: RadSec clients */ `
  -- 1: the client connects over RadSec (RFC 6614, TLS with a certificate naming it) and never over UDP;
  -- its secret is the fixed "radsec" (RFC 6614 §2.3).
  ALTER TABLE nas_clients ADD COLUMN radsec INTEGER NOT NULL DEFAULT 0 CHECK (radsec IN (0, 1));
  `,
  /* 11: expiry warnings sent */ `
  -- One row per warning sent (or skipped as already past) for a certificate, CA or OCSP signer,
  -- per threshold (days) and channel (smtp, webhook), so each is sent once.
  CREATE TABLE expiry_notices (
    kind      TEXT NOT NULL CHECK (kind IN ('certificate', 'ca', 'ocsp-signer')),
    ca_id     INTEGER NOT NULL,
    serial    TEXT NOT NULL,
    days      INTEGER NOT NULL,
    channel   TEXT NOT NULL,
    sent_at   INTEGER NOT NULL,
    PRIMARY KEY (kind, ca_id, serial, days, channel)
  ) WITHOUT ROWID;
  `,
  /* 12: console operators, their sessions and API tokens (admin console and API) */ `
  CREATE TABLE operators (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    username        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    -- scrypt$N$r$p$salt$hash (base64)
    password_hash   TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'network', 'helpdesk', 'auditor')),
    -- TOTP secret, AES-256-GCM under the master key, AAD "operator:<id>:totp"; NULL: not enrolled.
    totp_sealed     BLOB,
    -- An enrolment under way (AAD "operator:<id>:totp-pending"), confirmed by a first code.
    totp_pending    BLOB,
    -- The last TOTP time step accepted: a code is never accepted twice.
    totp_last_step  INTEGER,
    enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    failed_count    INTEGER NOT NULL DEFAULT 0,
    failed_since    INTEGER,
    locked_until    INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
  );

  -- Only the SHA-256 of the cookie value is stored: a copy of the database opens no session.
  CREATE TABLE operator_sessions (
    id_hash      TEXT PRIMARY KEY,
    operator_id  INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    client       TEXT
  ) WITHOUT ROWID;
  CREATE INDEX operator_sessions_operator ON operator_sessions(operator_id);

  CREATE TABLE operator_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_id  INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    name         TEXT NOT NULL COLLATE NOCASE,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
  );
  CREATE UNIQUE INDEX operator_tokens_name ON operator_tokens(operator_id, name) WHERE revoked_at IS NULL;

  -- Console filters on the audit log and the decision log.
  CREATE INDEX audit_target ON audit(target);
  CREATE INDEX audit_actor ON audit(actor);
  `,
  /* 13: user one-time passwords and per-kind second-factor policy (issue 6) */ `
  -- TOTP secret (RFC 6238), AES-256-GCM under the master key, AAD "user:<id>:otp"; NULL: not enrolled.
  ALTER TABLE users ADD COLUMN otp_sealed BLOB;
  -- An enrolment under way (AAD "user:<id>:otp-pending"), confirmed by a first code.
  ALTER TABLE users ADD COLUMN otp_pending BLOB;
  -- The last TOTP time step accepted: a code is never accepted twice.
  ALTER TABLE users ADD COLUMN otp_last_step INTEGER;
  ALTER TABLE users ADD COLUMN otp_enrolled_at INTEGER;

  -- Second factors per client kind; a kind without a row requires neither.
  CREATE TABLE kind_factors (
    kind               TEXT PRIMARY KEY CHECK (kind IN ('wlan', 'vpn', 'gateway', 'switch')),
    -- PAP (and TTLS-PAP) needs a one-time code after the password.
    otp                TEXT NOT NULL DEFAULT 'off' CHECK (otp IN ('off', 'required')),
    -- PEAP/TTLS need a client certificate in the outer TLS handshake.
    tunnel_client_cert TEXT NOT NULL DEFAULT 'off' CHECK (tunnel_client_cert IN ('off', 'required'))
  ) WITHOUT ROWID;

  -- Members of these groups need a one-time code whatever the client kind.
  CREATE TABLE group_otp (
    group_name TEXT PRIMARY KEY COLLATE NOCASE
  ) WITHOUT ROWID;
  `,
  /* 14: CoA / Disconnect-Request: NAS CoA settings and outcomes (issue 6) */ `
  -- RFC 5176 Dynamic Authorization towards this client: 1 = send Disconnect-Requests when its users'
  -- sessions must end. Port default 3799 (RFC 5176 §2.3); a secret of its own, AES-256-GCM under the master
  -- key, AAD "nas-coa:<name>" (NULL: the RADIUS shared secret); address NULL: the NAS-IP-Address seen in
  -- accounting, else the client's address when it is a single host.
  ALTER TABLE nas_clients ADD COLUMN coa_enabled INTEGER NOT NULL DEFAULT 0 CHECK (coa_enabled IN (0, 1));
  ALTER TABLE nas_clients ADD COLUMN coa_port INTEGER NOT NULL DEFAULT 3799 CHECK (coa_port BETWEEN 1 AND 65535);
  ALTER TABLE nas_clients ADD COLUMN coa_secret_sealed BLOB;
  ALTER TABLE nas_clients ADD COLUMN coa_address TEXT;

  -- One row per Disconnect-Request exchange (all its retransmissions), with how it ended.
  CREATE TABLE coa_requests (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    nas           TEXT NOT NULL,
    -- Where it was sent (address and port), and the accounting session it names.
    target        TEXT NOT NULL,
    session_id    TEXT NOT NULL,
    username      TEXT COLLATE NOCASE,
    -- The revoked certificate's serial (hex), when a revocation caused it.
    serial        TEXT,
    -- What caused it: 'cert.revoke', 'cert.hold', 'user.disable' or 'user.lock'.
    reason        TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('ack', 'nak', 'timeout', 'error')),
    -- RFC 5176 §3.5 Error-Cause of a NAK (or an ACK that carried one).
    error_cause   INTEGER,
    -- Why an 'error' (no CoA configured, no address, a reply that failed its checks...).
    detail        TEXT,
    requested_at  INTEGER NOT NULL,
    completed_at  INTEGER NOT NULL
  );
  CREATE INDEX coa_requests_user ON coa_requests(username, requested_at);
  `,
  /* 15: console list indexes (issue 5) */ `
  -- Each index serves one console list: its equality filter, then its order, so a page (and a
  -- deep page, by keyset cursor) is read in order and stops after LIMIT rows: no sort, no OFFSET.
  -- Certificates newest first; a batch is issued in one millisecond, so the serial breaks ties.
  CREATE INDEX certificates_issued ON certificates(issued_at, serial);
  -- Partial, and on terms only the lists write ('status >= 'valid'' is 'valid' under the CHECK),
  -- so that no other query (expiry's 'status = 'valid'' scan) is drawn to them: SQLite would walk
  -- such an index and read every row it names, ten times slower than scanning the table.
  CREATE INDEX certificates_valid_issued ON certificates(issued_at, serial, not_after, status) WHERE status >= 'valid';
  CREATE INDEX certificates_other_issued ON certificates(status, issued_at, serial) WHERE status < 'valid';
  -- Replaces certificates_username (its leading column). By common name, certificates_cn stays:
  -- a name has few certificates, and the expiry query's renewal check walks it.
  CREATE INDEX certificates_user_issued ON certificates(username, issued_at, serial);
  DROP INDEX certificates_username;
  -- The decision log by client, newest first; with 'at', a time range is checked in the index
  -- without reading the row. None by result: with two values, walking ids newest first finds a
  -- page at once, and such an index would draw the planner from auth_log_at and auth_log_user.
  CREATE INDEX auth_log_nas ON auth_log(nas, id, at);
  -- The audit log by time alone (see ConsoleQueries.timeWindowByIndex).
  CREATE INDEX audit_at ON audit(at);
  `,
  /* 16: console API additions (issue 5) */ `
  -- An API token may act with a narrower role than its operator's; NULL: the operator's own.
  ALTER TABLE operator_tokens ADD COLUMN role TEXT CHECK (role IS NULL OR role IN ('admin', 'network', 'helpdesk', 'auditor'));
  `,
  /* 17: directory sync (issue 4) */ `
  -- Incremental sync reads only the group entries changed since this mark (highest modifyTimestamp /
  -- uSNChanged among group entries); NULL: not known yet, so the next run that reads groups is full.
  ALTER TABLE ldap_sources ADD COLUMN group_watermark TEXT;
  -- The DN as group members are compared (lower case, no spaces around separators), so the members
  -- of a changed group are found by an index instead of by reading every link.
  ALTER TABLE ldap_user_links ADD COLUMN dn_key TEXT;
  UPDATE ldap_user_links SET dn_key = lower(replace(replace(replace(replace(dn, ', ', ','), ' ,', ','), '= ', '='), ' =', '='));
  CREATE INDEX ldap_user_links_dn_key ON ldap_user_links(source_id, dn_key);
  `,
  /* 18: EAP-TLS device certificates bound to the station's MAC (issue 6) */ `
  -- 1: the device's certificates are accepted only when Calling-Station-Id is the device's MAC.
  ALTER TABLE devices ADD COLUMN bind_mac INTEGER NOT NULL DEFAULT 0 CHECK (bind_mac IN (0, 1));
  `,
  /* 19: audit rows by action */ `
  -- The CoA engine's triggers (a few actions among the rows since its watermark: after a 10,000-user
  -- sync it read 10,000 rows on the RADIUS thread to find none) and the audit log's action filter.
  CREATE INDEX audit_action ON audit(action, id);
  `,
  /* 20: reserved (directory) */ `SELECT 1;`,
  /* 21: expiry warnings for imported TLS server certificates */ `
  -- The kind 'server-tls' (a TLS server certificate imported from another CA; its ca_id is 0, since
  -- its CA is not one of authbox's). SQLite cannot alter a CHECK: the table is made again and the
  -- warnings already sent are copied, so none goes out twice. Nothing references this table.
  CREATE TABLE expiry_notices_21 (
    kind      TEXT NOT NULL CHECK (kind IN ('certificate', 'ca', 'ocsp-signer', 'server-tls')),
    ca_id     INTEGER NOT NULL,
    serial    TEXT NOT NULL,
    days      INTEGER NOT NULL,
    channel   TEXT NOT NULL,
    sent_at   INTEGER NOT NULL,
    PRIMARY KEY (kind, ca_id, serial, days, channel)
  ) WITHOUT ROWID;
  INSERT INTO expiry_notices_21 (kind, ca_id, serial, days, channel, sent_at)
    SELECT kind, ca_id, serial, days, channel, sent_at FROM expiry_notices;
  DROP TABLE expiry_notices;
  ALTER TABLE expiry_notices_21 RENAME TO expiry_notices;
  `,
  /* 22: what expires soon, by index */ `
  -- The expiry finder (dashboard, hourly warnings, GET /certificates/expiring) read every
  -- certificate to find the few valid ones ending within the window (48 ms with 100,000, on the
  -- RADIUS thread); covering, so the rows themselves are not read.
  CREATE INDEX certificates_valid_expiry ON certificates(not_after, common_name, profile, username) WHERE status = 'valid';
  -- Its renewal check: a later valid certificate of the same common name and profile.
  CREATE INDEX certificates_valid_renewal ON certificates(common_name, profile, not_after) WHERE status = 'valid';
  `,
];
