// Every API route and who may call it, as data: the app registers exactly these, the
// OpenAPI document and the role-matrix test are checked against them. One place to read
// what each role can do.
import type { OperatorRole } from '../core/operators.js';

export const PERMISSIONS = [
  'users.read', 'users.write', 'certs.read', 'certs.revoke', 'nas.read', 'nas.write', 'policy.read', 'policy.write',
  'logs.auth', 'logs.audit', 'logs.export', 'dashboard.read', 'certs.issue', 'directory.read', 'directory.write', 'ca.read',
  'operators.manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * admin: everything. network: RADIUS clients, policies, the decision log, the dashboard and the
 * CAs' status. helpdesk: find users, reset passwords, unlock, enable/disable, reset OTP, revoke or
 * reissue users' certificates; nothing else. auditor: read-only, logs and exports.
 */
export const ROLE_PERMISSIONS: Readonly<Record<OperatorRole, readonly Permission[]>> = {
  admin: PERMISSIONS,
  network: ['nas.read', 'nas.write', 'policy.read', 'policy.write', 'logs.auth', 'dashboard.read', 'ca.read'],
  helpdesk: ['users.read', 'users.write', 'certs.read', 'certs.revoke'],
  auditor: [
    'users.read', 'certs.read', 'nas.read', 'policy.read', 'logs.auth', 'logs.audit', 'logs.export', 'dashboard.read', 'directory.read', 'ca.read',
  ],
};

/** 'public': no login; 'operator': any logged-in operator; else the permission needed. */
export type Access = 'public' | 'operator' | Permission;

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

export interface RouteSpec {
  id: string;
  method: HttpMethod;
  /** Under /api/v1, express syntax (":name" parameters). */
  path: string;
  access: Access;
  summary: string;
}

export const API_PREFIX = '/api/v1';

export const ROUTES = [
  { id: 'session.login', method: 'post', path: '/session', access: 'public', summary: 'Log in with user name, password and one-time code' },
  { id: 'session.current', method: 'get', path: '/session', access: 'operator', summary: 'The current operator, the session expiry and the CSRF token' },
  { id: 'session.logout', method: 'delete', path: '/session', access: 'operator', summary: 'Log out (ends this session)' },
  { id: 'session.otpBegin', method: 'post', path: '/session/otp', access: 'operator', summary: 'Start enrolling a one-time password (returns the otpauth:// URI)' },
  { id: 'session.otpConfirm', method: 'post', path: '/session/otp/confirm', access: 'operator', summary: 'Confirm the enrolment with a first code' },
  { id: 'dashboard', method: 'get', path: '/dashboard', access: 'dashboard.read', summary: 'Last 24 hours of decisions, recent failures, what expires, directory runs, listeners' },
  { id: 'users.list', method: 'get', path: '/users', access: 'users.read', summary: 'Search users by name prefix, paged' },
  { id: 'users.get', method: 'get', path: '/users/:name', access: 'users.read', summary: 'One user: groups, certificates, devices, recent decisions' },
  { id: 'users.resetPassword', method: 'post', path: '/users/:name/reset-password', access: 'users.write', summary: 'Set a temporary password, returned once' },
  { id: 'users.unlock', method: 'post', path: '/users/:name/unlock', access: 'users.write', summary: 'Unlock a user locked by failed attempts' },
  { id: 'users.enable', method: 'post', path: '/users/:name/enable', access: 'users.write', summary: 'Enable a user' },
  { id: 'users.disable', method: 'post', path: '/users/:name/disable', access: 'users.write', summary: 'Disable a user' },
  { id: 'users.sessions', method: 'get', path: '/users/:name/sessions', access: 'users.read', summary: 'A user\'s accounting sessions, open ones first' },
  { id: 'users.otpBegin', method: 'post', path: '/users/:name/otp', access: 'users.write', summary: 'Start a user\'s one-time-password enrolment (URI and QR code, shown once)' },
  { id: 'users.otpConfirm', method: 'post', path: '/users/:name/otp/confirm', access: 'users.write', summary: 'Confirm a user\'s enrolment with the first code from their app' },
  { id: 'users.otpReset', method: 'delete', path: '/users/:name/otp', access: 'users.write', summary: 'Reset a user\'s one-time-password enrolment' },
  { id: 'devices.list', method: 'get', path: '/devices', access: 'users.read', summary: 'Registered devices by owner or MAC/name prefix' },
  { id: 'disconnects', method: 'get', path: '/disconnects', access: 'users.read', summary: 'Disconnect (CoA) requests sent for a user and their outcome' },
  { id: 'certs.list', method: 'get', path: '/certificates', access: 'certs.read', summary: 'Certificates by user, serial prefix, common name or status' },
  { id: 'certs.issue', method: 'post', path: '/certificates', access: 'certs.issue', summary: 'Issue a certificate with a key made here: a one-time PKCS#12 download and its password' },
  // Before '/certificates/:serial', which would take "expiring" for a serial.
  { id: 'certs.expiring', method: 'get', path: '/certificates/expiring', access: 'certs.read', summary: 'Certificates, CAs, OCSP signers and imported TLS server certificates expiring within N days' },
  { id: 'certs.get', method: 'get', path: '/certificates/:serial', access: 'certs.read', summary: 'One certificate, decoded' },
  { id: 'certs.revoke', method: 'post', path: '/certificates/:serial/revoke', access: 'certs.revoke', summary: 'Revoke a certificate (helpdesk: users\' certificates only)' },
  { id: 'certs.reissue', method: 'post', path: '/certificates/:serial/reissue', access: 'certs.revoke', summary: 'Revoke (superseded) and issue a new one like it, as a one-time PKCS#12 download' },
  { id: 'downloads.get', method: 'get', path: '/downloads/:token', access: 'operator', summary: 'A PKCS#12 file, once, for the operator who asked for it, within 10 minutes' },
  { id: 'lostDevice', method: 'post', path: '/lost-device', access: 'certs.revoke', summary: 'Revoke every certificate of a user or a device (keyCompromise); where each was last used' },
  { id: 'nas.list', method: 'get', path: '/nas', access: 'nas.read', summary: 'RADIUS clients (secrets are never returned)' },
  { id: 'nas.add', method: 'post', path: '/nas', access: 'nas.write', summary: 'Add a RADIUS client' },
  { id: 'nas.remove', method: 'delete', path: '/nas/:name', access: 'nas.write', summary: 'Remove a RADIUS client' },
  { id: 'policies.get', method: 'get', path: '/policies', access: 'policy.read', summary: 'Group policies and the methods each client kind allows' },
  { id: 'policies.putGroup', method: 'put', path: '/policies/groups/:group', access: 'policy.write', summary: 'Create or change a group\'s policy' },
  { id: 'policies.removeGroup', method: 'delete', path: '/policies/groups/:group', access: 'policy.write', summary: 'Remove a group\'s policy' },
  { id: 'policies.putFactors', method: 'put', path: '/policies/factors/:kind', access: 'policy.write', summary: 'Second factors a client kind requires: one-time code, client certificate in PEAP/TTLS' },
  { id: 'policies.putGroupOtp', method: 'put', path: '/policies/group-otp/:group', access: 'policy.write', summary: 'Whether a group\'s members must give a one-time code' },
  { id: 'policies.putMethods', method: 'put', path: '/policies/methods/:kind', access: 'policy.write', summary: 'Set the methods a client kind allows (null: all)' },
  { id: 'logs.auth', method: 'get', path: '/logs/auth', access: 'logs.auth', summary: 'Authentication decisions, newest first, filtered' },
  { id: 'logs.audit', method: 'get', path: '/logs/audit', access: 'logs.audit', summary: 'Audit log, newest first, filtered' },
  { id: 'logs.auditCsv', method: 'get', path: '/logs/audit.csv', access: 'logs.export', summary: 'Audit log as CSV' },
  { id: 'directory.sources', method: 'get', path: '/directory/sources', access: 'directory.read', summary: 'Directory sources and their last run (never a bind password)' },
  { id: 'directory.test', method: 'post', path: '/directory/sources/:name/test', access: 'directory.write', summary: 'Connect, bind and count the users the filter matches' },
  { id: 'directory.preview', method: 'post', path: '/directory/sources/:name/preview', access: 'directory.write', summary: 'Dry run: what a sync would add, update and disable' },
  { id: 'directory.sync', method: 'post', path: '/directory/sources/:name/sync', access: 'directory.write', summary: 'Run a sync now, as the schedule does' },
  { id: 'directory.runs', method: 'get', path: '/directory/sources/:name/runs', access: 'directory.read', summary: 'A source\'s sync runs, newest first' },
  { id: 'ca.list', method: 'get', path: '/ca', access: 'ca.read', summary: 'The CAs with their CRL and OCSP status' },
  { id: 'ca.chain', method: 'get', path: '/ca/:id/chain.pem', access: 'ca.read', summary: 'A CA\'s certificate and its parents, PEM' },
  { id: 'tokens.list', method: 'get', path: '/tokens', access: 'operator', summary: 'Your API tokens (never the tokens themselves)' },
  { id: 'tokens.create', method: 'post', path: '/tokens', access: 'operator', summary: 'A new API token, shown once, optionally with a narrower role' },
  { id: 'tokens.revoke', method: 'delete', path: '/tokens/:id', access: 'operator', summary: 'Revoke one of your API tokens' },
  { id: 'operators.list', method: 'get', path: '/operators', access: 'operators.manage', summary: 'Console operators' },
  { id: 'operators.add', method: 'post', path: '/operators', access: 'operators.manage', summary: 'Add an operator (a generated password is shown once)' },
  { id: 'operators.sessions', method: 'get', path: '/operators/sessions', access: 'operators.manage', summary: 'Every live console session' },
  { id: 'operators.endSession', method: 'delete', path: '/operators/sessions/:id', access: 'operators.manage', summary: 'End a console session' },
  { id: 'operators.remove', method: 'delete', path: '/operators/:username', access: 'operators.manage', summary: 'Disable an operator: sessions end, tokens stop; the account stays for the audit trail' },
  { id: 'settings.ui', method: 'get', path: '/settings/ui', access: 'operator', summary: 'Console display settings: time zone and languages' },
  { id: 'openapi', method: 'get', path: '/openapi.json', access: 'public', summary: 'This API\'s OpenAPI 3.1 document' },
] as const satisfies readonly RouteSpec[];

export type RouteId = (typeof ROUTES)[number]['id'];

export function allowed(role: OperatorRole, access: Access): boolean {
  if (access === 'public' || access === 'operator') return true;
  return ROLE_PERMISSIONS[role].includes(access);
}

/** Whether `role` can do nothing that `of` cannot (an API token's narrower role). */
export function withinRole(role: OperatorRole, of: OperatorRole): boolean {
  return ROLE_PERMISSIONS[role].every((p) => ROLE_PERMISSIONS[of].includes(p));
}
