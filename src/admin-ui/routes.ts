// Every API route and who may call it, as data: the app registers exactly these, the
// OpenAPI document and the role-matrix test are checked against them. One place to read
// what each role can do.
import type { OperatorRole } from '../core/operators.js';

export const PERMISSIONS = [
  'users.read', 'users.write', 'certs.read', 'certs.revoke', 'nas.read', 'nas.write', 'policy.read', 'policy.write',
  'logs.auth', 'logs.audit', 'logs.export',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * admin: everything. network: RADIUS clients, policies, the decision log. helpdesk: find users,
 * reset passwords, unlock, enable/disable, revoke users' certificates; nothing else. auditor:
 * read-only, logs and exports.
 */
export const ROLE_PERMISSIONS: Readonly<Record<OperatorRole, readonly Permission[]>> = {
  admin: PERMISSIONS,
  network: ['nas.read', 'nas.write', 'policy.read', 'policy.write', 'logs.auth'],
  helpdesk: ['users.read', 'users.write', 'certs.read', 'certs.revoke'],
  auditor: ['users.read', 'certs.read', 'nas.read', 'policy.read', 'logs.auth', 'logs.audit', 'logs.export'],
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
  { id: 'users.list', method: 'get', path: '/users', access: 'users.read', summary: 'Search users by name prefix, paged' },
  { id: 'users.get', method: 'get', path: '/users/:name', access: 'users.read', summary: 'One user: groups, certificates, devices, recent decisions' },
  { id: 'users.resetPassword', method: 'post', path: '/users/:name/reset-password', access: 'users.write', summary: 'Set a temporary password, returned once' },
  { id: 'users.unlock', method: 'post', path: '/users/:name/unlock', access: 'users.write', summary: 'Unlock a user locked by failed attempts' },
  { id: 'users.enable', method: 'post', path: '/users/:name/enable', access: 'users.write', summary: 'Enable a user' },
  { id: 'users.disable', method: 'post', path: '/users/:name/disable', access: 'users.write', summary: 'Disable a user' },
  { id: 'certs.list', method: 'get', path: '/certificates', access: 'certs.read', summary: 'Certificates by user, serial prefix, common name or status' },
  // Before '/certificates/:serial', which would take "expiring" for a serial.
  { id: 'certs.expiring', method: 'get', path: '/certificates/expiring', access: 'certs.read', summary: 'Certificates, CAs and OCSP signers expiring within N days' },
  { id: 'certs.get', method: 'get', path: '/certificates/:serial', access: 'certs.read', summary: 'One certificate, decoded' },
  { id: 'certs.revoke', method: 'post', path: '/certificates/:serial/revoke', access: 'certs.revoke', summary: 'Revoke a certificate (helpdesk: users\' certificates only)' },
  { id: 'nas.list', method: 'get', path: '/nas', access: 'nas.read', summary: 'RADIUS clients (secrets are never returned)' },
  { id: 'nas.add', method: 'post', path: '/nas', access: 'nas.write', summary: 'Add a RADIUS client' },
  { id: 'nas.remove', method: 'delete', path: '/nas/:name', access: 'nas.write', summary: 'Remove a RADIUS client' },
  { id: 'policies.get', method: 'get', path: '/policies', access: 'policy.read', summary: 'Group policies and the methods each client kind allows' },
  { id: 'policies.putGroup', method: 'put', path: '/policies/groups/:group', access: 'policy.write', summary: 'Create or change a group\'s policy' },
  { id: 'policies.removeGroup', method: 'delete', path: '/policies/groups/:group', access: 'policy.write', summary: 'Remove a group\'s policy' },
  { id: 'policies.putMethods', method: 'put', path: '/policies/methods/:kind', access: 'policy.write', summary: 'Set the methods a client kind allows (null: all)' },
  { id: 'logs.auth', method: 'get', path: '/logs/auth', access: 'logs.auth', summary: 'Authentication decisions, newest first, filtered' },
  { id: 'logs.audit', method: 'get', path: '/logs/audit', access: 'logs.audit', summary: 'Audit log, newest first, filtered' },
  { id: 'logs.auditCsv', method: 'get', path: '/logs/audit.csv', access: 'logs.export', summary: 'Audit log as CSV' },
  { id: 'openapi', method: 'get', path: '/openapi.json', access: 'public', summary: 'This API\'s OpenAPI 3.1 document' },
] as const satisfies readonly RouteSpec[];

export type RouteId = (typeof ROUTES)[number]['id'];

export function allowed(role: OperatorRole, access: Access): boolean {
  if (access === 'public' || access === 'operator') return true;
  return ROLE_PERMISSIONS[role].includes(access);
}
