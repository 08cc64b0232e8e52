// Where expiry warnings go: e-mail over SMTP (nodemailer) and a webhook (POST JSON signed
// with HMAC-SHA256). Secrets (the SMTP password, the webhook key) are read from their files
// at each send, so they can be rotated without a restart, and never logged.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ExpirySettings } from '../config/config.js';
import { describeExpiring, type ExpiryChannel, type ExpiryNotice } from './expiry-notifier.js';

/** The webhook's signature header: "sha256=" and the hex HMAC-SHA256 of the body under the secret. */
export const WEBHOOK_SIGNATURE_HEADER = 'x-authbox-signature-256';

function firstLine(file: string): string {
  return readFileSync(file, 'utf8').split(/\r?\n/)[0]!;
}

export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function smtpChannel(s: NonNullable<ExpirySettings['smtp']>, organization: string, clock: () => Date = () => new Date()): ExpiryChannel {
  return {
    name: 'smtp',
    async send(notices: readonly ExpiryNotice[]): Promise<void> {
      // Loaded on the first mail only: every CLI command would pay for it otherwise.
      const { default: nodemailer } = await import('nodemailer');
      const transport = nodemailer.createTransport({
        host: s.host, port: s.port,
        // 465 is TLS from the first byte; otherwise STARTTLS is required (or, with starttls false, never tried).
        secure: s.port === 465, requireTLS: s.starttls && s.port !== 465, ignoreTLS: !s.starttls,
        ...(s.user && s.passwordFile ? { auth: { user: s.user, pass: firstLine(s.passwordFile) } } : {}),
        ...(s.caFile ? { tls: { ca: readFileSync(s.caFile) } } : {}),
        connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 30_000,
      });
      try {
        const now = clock().getTime();
        const soonest = Math.min(...notices.map((n) => n.days));
        await transport.sendMail({
          from: s.from, to: [...s.to],
          subject: `[authbox] ${notices.length} certificate${notices.length === 1 ? '' : 's'} of ${organization} expire${notices.length === 1 ? 's' : ''} within ${soonest} day${soonest === 1 ? '' : 's'}`,
          text: [
            `These certificates of ${organization} expire soon:`, '',
            ...notices.map((n) => `- ${describeExpiring(n, now)}`), '',
            'List them with: authbox cert expiring --data DIR',
            '',
          ].join('\n'),
        });
      } finally {
        transport.close();
      }
    },
  };
}

export function webhookChannel(w: NonNullable<ExpirySettings['webhook']>, organization: string, clock: () => Date = () => new Date()): ExpiryChannel {
  return {
    name: 'webhook',
    async send(notices: readonly ExpiryNotice[]): Promise<void> {
      const body = JSON.stringify({
        event: 'certificates.expiring', organization, sentAt: clock().toISOString(),
        items: notices.map((n) => ({
          kind: n.kind, ca: n.caName, serial: n.serial, name: n.name, profile: n.profile ?? null, user: n.username ?? null,
          notAfter: new Date(n.notAfter).toISOString(), daysLeft: n.daysLeft, threshold: n.days,
        })),
      });
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'authbox' };
      if (w.secretFile) headers[WEBHOOK_SIGNATURE_HEADER] = webhookSignature(firstLine(w.secretFile), body);
      const r = await fetch(w.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(15_000), redirect: 'error' });
      await r.arrayBuffer().catch(() => undefined);
      if (!r.ok) throw new Error(`the webhook answered HTTP ${r.status}`);
    },
  };
}

export function expiryChannels(settings: ExpirySettings, organization: string, clock?: () => Date): ExpiryChannel[] {
  return [
    ...(settings.smtp ? [smtpChannel(settings.smtp, organization, clock)] : []),
    ...(settings.webhook ? [webhookChannel(settings.webhook, organization, clock)] : []),
  ];
}
