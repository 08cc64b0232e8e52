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
    '/session/otp': { post: { summary: 'Begin TOTP enrolment', parameters: [csrf], responses: { ...ok('otpauthUri', { type: 'object', properties: { otpauthUri: { type: 'string' } } }), ...errors } } },
    '/session/otp/confirm': { post: { summary: 'Confirm TOTP enrolment', parameters: [csrf], requestBody: body({ type: 'object', required: ['otp'], properties: { otp: { type: 'string' } } }), responses: { ...ok('Enrolled'), ...errors } } },
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
        summary: 'Find certificates', parameters: [q('user', 'Owner'), q('serial', 'Serial (hex) prefix'), q('cn', 'Common name (exact)'), q('status', 'Status', { enum: ['valid', 'revoked', 'expired', 'hold'] }), q('limit', 'At most', { type: 'integer' })],
        responses: { ...ok('Certificates', { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Certificate' } } } }), ...errors },
      },
    },
    '/certificates/expiring': {
      get: {
        summary: 'Certificates, CAs and OCSP signers expiring within N days (default 30), soonest first (revoked and renewed ones left out)',
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
    '/policies/methods/{kind}': {
      put: {
        summary: 'Allowed methods of a client kind', parameters: [path('kind', 'wlan, vpn, gateway or switch'), csrf],
        requestBody: body({ type: 'object', required: ['methods'], properties: { methods: { type: ['array', 'null'], items: { type: 'string' } } } }),
        responses: { ...ok('The methods'), ...errors },
      },
    },
    '/logs/auth': { get: { summary: 'Authentication decisions', parameters: [q('user', 'User'), q('nas', 'RADIUS client'), q('outcome', 'accept or reject', { enum: ['accept', 'reject'] }), ...timeFilters, ...paging], responses: { ...ok('Decisions'), ...errors } } },
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
