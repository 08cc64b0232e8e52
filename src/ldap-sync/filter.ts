// LDAP search filters built from values that may come from anyone (a RADIUS user name, a
// timestamp): every value is escaped as RFC 4515 §3 requires, so `*)(uid=*` is a literal.
// A filter the administrator configured (--user-filter) is trusted text and only checked
// for balanced parentheses.

/** RFC 4515 §3: NUL, '(', ')', '*' and '\' become \XX; so do other bytes outside printable ASCII, for safety. */
export function escapeFilterValue(value: string | Uint8Array): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  let out = '';
  for (const b of bytes) {
    const special = b === 0x00 || b === 0x28 || b === 0x29 || b === 0x2a || b === 0x5c || b < 0x20 || b > 0x7e;
    out += special ? `\\${b.toString(16).padStart(2, '0')}` : String.fromCharCode(b);
  }
  return out;
}

/** A tagged template that escapes every interpolated value: ldapFilter`(uid=${name})`. */
export function ldapFilter(strings: TemplateStringsArray, ...values: (string | number | Uint8Array)[]): string {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += escapeFilterValue(typeof v === 'number' ? String(v) : v) + strings[i + 1]!;
  });
  return out;
}

/** A configured filter in parentheses, or undefined if its parentheses do not balance. */
export function normalizeConfiguredFilter(filter: string): string | undefined {
  const f = filter.trim();
  if (f === '') return undefined;
  const wrapped = f.startsWith('(') ? f : `(${f})`;
  let depth = 0;
  for (let i = 0; i < wrapped.length; i++) {
    const c = wrapped[i];
    if (c === '\\') { i += 2; continue; }
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (depth < 0) return undefined;
    if (depth === 0 && i !== wrapped.length - 1) return undefined;
  }
  return depth === 0 ? wrapped : undefined;
}

/** (&A B ...), dropping undefined parts; one part is returned as it is. */
export function andFilter(...parts: (string | undefined)[]): string {
  const present = parts.filter((p): p is string => p !== undefined && p !== '');
  if (present.length === 1) return present[0]!;
  return `(&${present.join('')})`;
}
