// The API's OpenAPI 3.1 document, written by hand as data. A test checks that every route
// in routes.ts appears here with its method.
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ok = (description: string, schema: object = { type: 'object' }) => ({ 200: { description, ...json(schema) } });
const noContent = { 204: { description: 'Done' } };
const errors = { default: { description: 'Error', ...json({ $ref: '#/components/schemas/Error' }) } };
const path = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });
const q = (name: string, description: string, schema: object = { type: 'string' }) => ({ name, in: 'query', required: false, description, schema });
const csrf = { name: 'X-CSRF-Token', in: 'header', required: false, description: 'Required with a session cookie (from GET /session); not with a Bearer token', schema: { type: 'string' } };
const body = (schema: object) => ({ required: true, ...json(schema) });
const paging = [q('limit', 'Page size', { type: 'integer', minimum: 1, maximum: 200 }), q('before', 'Only rows older than this id (newest-first paging)', { type: 'integer' })];
const timeFilters = [q('since', 'ISO time or ms since the epoch'), q('until', 'ISO time or ms since the epoch')];

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'authbox admin API', version: '1',
    description: 'Session cookie (authbox_session) plus X-CSRF-Token on state changes, or Authorization: Bearer <API token>. Errors are {error: {code, message}}.',
  },
  servers: [{ url: '/api/v1' }],
  components: {
    securitySchemes: {
      session: { type: 'apiKey', in: 'cookie', name: 'authbox_session' },
      token: { type: 'http', scheme: 'bearer' },
    },
    schemas: {
      Error: { type: 'object', required: ['error'], properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } } },
      Operator: { type: 'object', properties: { username: { type: 'string' }, role: { enum: ['admin', 'network', 'helpdesk', 'auditor'] }, enabled: { type: 'boolean' }, otpEnrolled: { type: 'boolean' } } },
      Session: { type: 'object', properties: { operator: { $ref: '#/components/schemas/Operator' }, csrfToken: { type: 'string' }, expiresAt: { type: 'integer' } } },
      UserSummary: { type: 'object', properties: { username: { type: 'string' }, displayName: { type: ['string', 'null'] }, enabled: { type: 'boolean' }, groups: { type: 'array', items: { type: 'string' } } } },
      Certificate: { type: 'object', properties: { serial: { type: 'string' }, commonName: { type: 'string' }, username: { type: ['string', 'null'] }, status: { enum: ['valid', 'revoked', 'hold', 'expired'] } } },
      Nas: { type: 'object', properties: { name: { type: 'string' }, address: { type: 'string' }, kind: { type: 'string' }, requireMessageAuthenticator: { type: 'boolean' }, radsec: { type: 'boolean' } } },
      Issued: {
        type: 'object', description: 'The new certificate, the one-time download path (GET it once within 10 minutes, as the same operator) and the PKCS#12 password, shown this once',
        properties: { serial: { type: 'string' }, commonName: { type: 'string' }, notAfter: { type: 'integer' }, download: { type: 'string' }, downloadExpiresAt: { type: 'integer' }, password: { type: 'string', minLength: 16 } },
      },
      LastUse: { type: ['object', 'null'], properties: { at: { type: 'integer' }, client: { type: 'string' }, nasAddress: { type: 'string' }, method: { type: ['string', 'null'] }, callingStationId: { type: ['string', 'null'] } } },
      SyncRun: {
        type: 'object', properties: { id: { type: 'integer' }, startedAt: { type: 'integer' }, finishedAt: { type: ['integer', 'null'] }, ok: { type: 'boolean' }, error: { type: ['string', 'null'] }, mode: { enum: ['full', 'incremental'] }, dryRun: { type: 'boolean' }, counts: { type: 'object' } },
      },
    },
  },
  security: [{ session: [] }, { token: [] }],
  paths: {
    '/session': {
      post: {
        summary: 'Log in', security: [], responses: { ...ok('Logged in; sets the session cookie', { $ref: '#/components/schemas/Session' }), ...errors },
        description: '401 OTP_REQUIRED: send the one-time code. 401 OTP_ENROLMENT_REQUIRED: an admin without TOTP gets enrolment.otpauthUri, then logs in again with a code.',
        requestBody: body({ type: 'object', required: ['username', 'password'], properties: { username: { type: 'string' }, password: { type: 'string' }, otp: { type: 'string', pattern: '^[0-9]{6}$' } } }),
      },
      get: { summary: 'Current session and CSRF token', responses: { ...ok('The session', { $ref: '#/components/schemas/Session' }), ...errors } },
      delete: { summary: 'Log out', parameters: [csrf], responses: { ...noContent, ...errors } },
    },
    '/session/otp': { post: { summary: 'Begin TOTP enrolment', parameters: [csrf], responses: { ...ok('otpauthUri and the same as an SVG QR code', { type: 'object', properties: { otpauthUri: { type: 'string' }, qrSvg: { type: 'string' } } }), ...errors } } },
    '/session/otp/confirm': { post: { summary: 'Confirm TOTP enrolment', parameters: [csrf], requestBody: body({ type: 'object', required: ['otp'], properties: { otp: { type: 'string' } } }), responses: { ...ok('Enrolled'), ...errors } } },
    '/dashboard': { get: { summary: 'Decisions per hour (24 h) by result and method, latest failures, what expires in 30 days, directory runs, listeners', responses: { ...ok('The dashboard'), ...errors } } },
    '/users/{name}/sessions': { get: { summary: 'Accounting sessions, open first', parameters: [path('name', 'User name'), q('limit', 'At most', { type: 'integer', minimum: 1, maximum: 200 })], responses: { ...ok('Sessions'), ...errors } } },
    '/users/{name}/otp': {
      post: { summary: 'Start the user\'s OTP enrolment: otpauth URI and QR code, shown once', parameters: [path('name', 'User name'), csrf], responses: { ...ok('uri, qrSvg, otp status'), ...errors } },
      delete: { summary: 'Reset the user\'s OTP enrolment', parameters: [path('name', 'User name'), csrf], responses: { ...ok('changed, otp status'), ...errors } },
    },
    '/users/{name}/otp/confirm': {
      post: {
        summary: 'Confirm the user\'s OTP enrolment with a first code', parameters: [path('name', 'User name'), csrf],
        requestBody: body({ type: 'object', required: ['code'], properties: { code: { type: 'string' } } }), responses: { ...ok('otp status'), ...errors },
      },
    },
    '/devices': {
      get: {
        summary: 'Registered devices', parameters: [q('owner', 'Owner (user name)'), q('prefix', 'MAC or name prefix'), q('cursor', 'nextCursor of the previous page'), q('limit', 'Page size', { type: 'integer', minimum: 1, maximum: 200 })],
        responses: { ...ok('A page of devices'), ...errors },
      },
    },
    '/disconnects': { get: { summary: 'Disconnect-Requests (RFC 5176) sent for a user', parameters: [{ ...q('user', 'User'), required: true }, q('since', 'ISO time or ms since the epoch (default 30 days ago)')], responses: { ...ok('items'), ...errors } } },
    '/lost-device': {
      post: {
        summary: 'Revoke (keyCompromise) every valid certificate of a user or of a device, in one transaction; where each was last used', parameters: [csrf],
        requestBody: body({ type: 'object', properties: { username: { type: 'string' }, device: { type: 'string', description: 'MAC' } } }),
        responses: { ...ok('revoked (with lastUsed), alreadyRevoked, lastSeen', { type: 'object', properties: { revoked: { type: 'array', items: { type: 'object', properties: { serial: { type: 'string' }, commonName: { type: 'string' }, lastUsed: { $ref: '#/components/schemas/LastUse' } } } }, alreadyRevoked: { type: 'integer' }, lastSeen: { $ref: '#/components/schemas/LastUse' } } }), ...errors },
      },
    },
    '/downloads/{token}': {
      get: {
        summary: 'A PKCS#12 file, once, for the operator who asked for it; 410 when used or expired', parameters: [path('token', 'From the issue or reissue answer')],
        responses: { 200: { description: 'PKCS#12', content: { 'application/x-pkcs12': { schema: { type: 'string', format: 'binary' } } } }, ...errors },
      },
    },
    '/directory/sources': { get: { summary: 'Directory sources (never a bind password) with their last run', responses: { ...ok('items'), ...errors } } },
    '/directory/sources/{name}/test': { post: { summary: 'Connect, bind, count the users', parameters: [path('name', 'Source'), csrf], responses: { ...ok('ok, count or code and error'), ...errors } } },
    '/directory/sources/{name}/preview': { post: { summary: 'Dry run: the users a sync would add, update and disable', parameters: [path('name', 'Source'), csrf], responses: { ...ok('The plan'), ...errors } } },
    '/directory/sources/{name}/sync': { post: { summary: 'Sync now, as the schedule does', parameters: [path('name', 'Source'), csrf], responses: { ...ok('The run', { $ref: '#/components/schemas/SyncRun' }), ...errors } } },
    '/directory/sources/{name}/runs': { get: { summary: 'Runs, newest first', parameters: [path('name', 'Source'), q('limit', 'At most', { type: 'integer' })], responses: { ...ok('items', { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/SyncRun' } } } }), ...errors } } },
    '/ca': { get: { summary: 'CAs with CRL and OCSP status', responses: { ...ok('items'), ...errors } } },
    '/ca/{id}/chain.pem': {
      get: { summary: 'The CA and its parents, PEM', parameters: [path('id', 'CA id or name')], responses: { 200: { description: 'PEM', content: { 'application/pem-certificate-chain': { schema: { type: 'string' } } } }, ...errors } },
    },
    '/tokens': {
      get: { summary: 'Your API tokens (never the token itself)', responses: { ...ok('items'), ...errors } },
      post: {
        summary: 'A new API token, shown once', parameters: [csrf], requestBody: body({ type: 'object', required: ['name'], properties: { name: { type: 'string' }, role: { enum: ['admin', 'network', 'helpdesk', 'auditor'], description: 'At most your own role' } } }),
        responses: { 201: { description: 'The token, this once', ...json({ type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' }, role: { type: 'string' }, token: { type: 'string' } } }) }, ...errors },
      },
    },
    '/tokens/{id}': { delete: { summary: 'Revoke one of your tokens', parameters: [path('id', 'Token id'), csrf], responses: { ...noContent, ...errors } } },
    '/operators': {
      get: { summary: 'Operators', responses: { ...ok('items', { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Operator' } } } }), ...errors } },
      post: {
        summary: 'Add an operator; without a password one is generated and shown once', parameters: [csrf],
        requestBody: body({ type: 'object', required: ['username', 'role'], properties: { username: { type: 'string' }, role: { enum: ['admin', 'network', 'helpdesk', 'auditor'] }, password: { type: 'string', writeOnly: true } } }),
        responses: { 201: { description: 'Added', ...json({ type: 'object' }) }, ...errors },
      },
    },
    '/operators/{username}': { delete: { summary: 'Disable an operator (sessions end, tokens stop)', parameters: [path('username', 'Operator'), csrf], responses: { ...ok('changed'), ...errors } } },
    '/operators/sessions': { get: { summary: 'Live console sessions', responses: { ...ok('items'), ...errors } } },
    '/operators/sessions/{id}': { delete: { summary: 'End a session', parameters: [path('id', 'Session id from the list'), csrf], responses: { ...noContent, ...errors } } },
    '/settings/ui': { get: { summary: 'Time zone and languages of the console', responses: { ...ok('timeZone, languages'), ...errors } } },
    '/users': {
      get: {
        summary: 'Search users (name prefix)', parameters: [q('q', 'Name prefix, case-insensitive'), q('cursor', 'nextCursor of the previous page'), q('limit', 'Page size', { type: 'integer', minimum: 1, maximum: 200 })],
        responses: { ...ok('A page', { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/UserSummary' } }, nextCursor: { type: 'string' } } }), ...errors },
      },
    },
    '/users/{name}': { get: { summary: 'One user with groups, certificates, devices and recent decisions', parameters: [path('name', 'User name')], responses: { ...ok('The user'), ...errors } } },
    '/users/{name}/reset-password': { post: { summary: 'Temporary password (shown once)', parameters: [path('name', 'User name'), csrf], responses: { ...ok('username and temporaryPassword'), ...errors } } },
    '/users/{name}/unlock': { post: { summary: 'Unlock', parameters: [path('name', 'User name'), csrf], responses: { ...ok('changed'), ...errors } } },
    '/users/{name}/enable': { post: { summary: 'Enable', parameters: [path('name', 'User name'), csrf], responses: { ...ok('changed'), ...errors } } },
    '/users/{name}/disable': { post: { summary: 'Disable', parameters: [path('name', 'User name'), csrf], responses: { ...ok('changed'), ...errors } } },
    '/certificates': {
      get: {
        summary: 'Find certificates (filters combine), newest first or, with serial, in serial order; paged', parameters: [q('user', 'Owner'), q('serial', 'Serial (hex) prefix'), q('cn', 'Common name (exact)'), q('status', 'Status', { enum: ['valid', 'revoked', 'expired', 'hold'] }), q('limit', 'At most', { type: 'integer' }), q('cursor', 'The previous page\'s nextCursor')],
        responses: { ...ok('Certificates', { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Certificate' } }, nextCursor: { type: 'string' } } }), ...errors },
      },
      post: {
        summary: 'Issue with a key made here; PKCS#12 once (user: username; device: a registered MAC)', parameters: [csrf],
        requestBody: body({ type: 'object', properties: { username: { type: 'string' }, device: { type: 'string' }, profile: { enum: ['user', 'device'] }, days: { type: 'integer' }, keyType: { enum: ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072'] }, legacy: { type: 'boolean' } } }),
        responses: { 201: { description: 'Issued', ...json({ $ref: '#/components/schemas/Issued' }) }, ...errors },
      },
    },
    '/certificates/expiring': {
      get: {
        summary: 'Certificates, CAs, OCSP signers and imported TLS server certificates (kind server-tls) expiring within N days (default 30), soonest first (revoked and renewed ones left out)',
        parameters: [q('days', 'Within this many days', { type: 'integer' })], responses: { ...ok('Expiring items'), ...errors },
      },
    },
    '/certificates/{serial}': { get: { summary: 'One certificate, decoded (PEM included; never a key)', parameters: [path('serial', 'Serial (hex)')], responses: { ...ok('Certificate', { $ref: '#/components/schemas/Certificate' }), ...errors } } },
    '/certificates/{serial}/revoke': {
      post: {
        summary: 'Revoke', parameters: [path('serial', 'Serial (hex)'), csrf],
        requestBody: body({ type: 'object', properties: { reason: { enum: ['unspecified', 'keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold'] } } }),
        responses: { ...ok('Revoked', { $ref: '#/components/schemas/Certificate' }), ...errors },
      },
    },
    '/certificates/{serial}/reissue': {
      post: {
        summary: 'Revoke (superseded) and issue one like it; PKCS#12 once', parameters: [path('serial', 'Serial (hex)'), csrf],
        requestBody: { required: false, ...json({ type: 'object', properties: { legacy: { type: 'boolean' } } }) },
        responses: { 201: { description: 'Issued', ...json({ $ref: '#/components/schemas/Issued' }) }, ...errors },
      },
    },
    '/nas': {
      get: { summary: 'RADIUS clients', responses: { ...ok('Clients', { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Nas' } } } }), ...errors } },
      post: {
        summary: 'Add a RADIUS client (the secret is write-only)', parameters: [csrf],
        requestBody: body({ type: 'object', required: ['name', 'address'], properties: { name: { type: 'string' }, address: { type: 'string' }, secret: { type: 'string', writeOnly: true }, kind: { enum: ['wlan', 'vpn', 'gateway', 'switch'] }, requireMessageAuthenticator: { type: 'boolean' }, radsec: { type: 'boolean' } } }),
        responses: { 201: { description: 'Added', ...json({ $ref: '#/components/schemas/Nas' }) }, ...errors },
      },
    },
    '/nas/{name}': { delete: { summary: 'Remove a RADIUS client', parameters: [path('name', 'Client name'), csrf], responses: { ...noContent, ...errors } } },
    '/policies': { get: { summary: 'Group policies and allowed methods per client kind', responses: { ...ok('Policies'), ...errors } } },
    '/policies/groups/{group}': {
      put: {
        summary: 'Create or change a group policy', parameters: [path('group', 'Group'), csrf],
        requestBody: body({ type: 'object', properties: { vlan: { type: 'string' }, sessionTimeout: { type: 'integer' }, filterId: { type: 'string' }, class: { type: 'string' }, priority: { type: 'integer' }, unset: { type: 'array', items: { enum: ['vlan', 'sessionTimeout', 'filterId', 'class'] } } } }),
        responses: { ...ok('The policy'), ...errors },
      },
      delete: { summary: 'Remove a group policy', parameters: [path('group', 'Group'), csrf], responses: { ...noContent, ...errors } },
    },
    '/policies/factors/{kind}': {
      put: {
        summary: 'Second factors of a client kind', parameters: [path('kind', 'wlan, vpn, gateway or switch'), csrf],
        requestBody: body({ type: 'object', properties: { otp: { enum: ['off', 'required'] }, tunnelClientCert: { enum: ['off', 'required'] } } }),
        responses: { ...ok('The kind\'s factors'), ...errors },
      },
    },
    '/policies/group-otp/{group}': {
      put: {
        summary: 'Whether a group requires a one-time code', parameters: [path('group', 'Group'), csrf],
        requestBody: body({ type: 'object', required: ['required'], properties: { required: { type: 'boolean' } } }),
        responses: { ...ok('The setting'), ...errors },
      },
    },
    '/policies/methods/{kind}': {
      put: {
        summary: 'Allowed methods of a client kind', parameters: [path('kind', 'wlan, vpn, gateway or switch'), csrf],
        requestBody: body({ type: 'object', required: ['methods'], properties: { methods: { type: ['array', 'null'], items: { type: 'string' } } } }),
        responses: { ...ok('The methods'), ...errors },
      },
    },
    '/logs/auth': { get: { summary: 'Authentication decisions', parameters: [q('user', 'User'), q('nas', 'RADIUS client'), q('outcome', 'accept or reject', { enum: ['accept', 'reject'] }), q('method', 'pap, chap, mschapv2, eap-tls, peap, ttls or mab'), ...timeFilters, ...paging], responses: { ...ok('Decisions'), ...errors } } },
    '/logs/audit': { get: { summary: 'Audit log', parameters: [q('actor', 'Actor'), q('action', 'Action prefix'), q('target', 'Target'), ...timeFilters, ...paging], responses: { ...ok('Audit rows'), ...errors } } },
    '/logs/audit.csv': {
      get: {
        summary: 'Audit log as CSV', parameters: [q('actor', 'Actor'), q('action', 'Action prefix'), q('target', 'Target'), ...timeFilters, ...paging],
        responses: { 200: { description: 'CSV', content: { 'text/csv': { schema: { type: 'string' } } } }, ...errors },
      },
    },
    '/openapi.json': { get: { summary: 'This document', security: [], responses: { ...ok('OpenAPI 3.1') } } },
  },
} as const;
