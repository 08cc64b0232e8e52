// src/config/config.ts: the data folder's authbox.json over defaults, validated once and
// frozen; the master key path (env, systemd credential, data folder) and its file checks.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.js';
import {
  DEFAULT_EAP_WORKERS,
  CONFIG_FILE, MASTER_KEY_CREDENTIAL, loadConfig, masterKeyPath, parseListen, readMasterKey,
} from '../../src/config/config.js';
import { codeOf } from '../helpers/unit.js';


let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'authbox-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const writeSettings = (settings: unknown): void => writeFileSync(join(dir, CONFIG_FILE), JSON.stringify(settings));
const base = { organization: 'Test City', publicUrl: 'http://ca.test:8080' };

describe('parseListen', () => {
  const ok: [string, string, number][] = [
    ['0.0.0.0:8080', '0.0.0.0', 8080],
    ['[::]:1812', '::', 1812],
    ['127.0.0.1:0', '127.0.0.1', 0],
    ['[::1]:443', '::1', 443],
    ['[::ffff:192.0.2.1]:65535', '::ffff:192.0.2.1', 65535],
    ['localhost:8443', 'localhost', 8443],
    [' 10.0.0.1:80 ', '10.0.0.1', 80],
  ];
  for (const [input, host, port] of ok) {
    it(`${JSON.stringify(input)} → ${host} port ${port}`, () => {
      expect(parseListen(input, '--http')).toEqual({ host, port });
    });
  }

  const refused = ['8080', 'host:99999', '', ':8080', 'host:', 'host:65536', '::1:80', '[::1]', 'a b:80', 'host:123456', 'host:-1', 'host:80x', '[zz]:80', '[::1:80', 'a]:80'];
  for (const input of refused) {
    it(`refuses ${JSON.stringify(input)} with BAD_INPUT naming the option`, () => {
      let err: unknown;
      try {
        parseListen(input, '--radius');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('BAD_INPUT');
      expect((err as AppError).message).toContain('--radius');
    });
  }
});

describe('loadConfig', () => {
  it('applies the defaults', () => {
    writeSettings(base);
    const c = loadConfig(dir, {});
    expect(c).toEqual({
      dataDir: dir,
      databaseFile: join(dir, 'authbox.db'),
      masterKeyFile: join(dir, 'master.key'),
      organization: 'Test City',
      publicUrl: 'http://ca.test:8080',
      keyType: 'ec-p256',
      http: { listen: { host: '0.0.0.0', port: 8080 }, workers: 2, maxBodyBytes: 16 * 1024 },
      ocsp: { validitySeconds: 3600, cacheMaxAgeSeconds: 60, cacheEntries: 200_000 },
      crl: { validitySeconds: 86_400, debounceMs: 300 },
      feed: { pollMs: 100 },
      radius: { auth: [{ host: '0.0.0.0', port: 1812 }], acct: [{ host: '0.0.0.0', port: 1813 }], eapWorkers: DEFAULT_EAP_WORKERS, radsec: null },
      logLevel: 'info',
      log: { level: 'info', system: { stdout: true }, auth: { stdout: false }, audit: { stdout: true }, stdoutBufferKiB: 16_384 },
      expiry: { days: [30, 7, 1] },
      metrics: { allow: ['127.0.0.1/32', '::1/128'] },
      passwords: { minLength: 8, minClasses: 1, history: 0, maxAgeDays: 0 },
      lockout: { attempts: 10, windowMinutes: 15, durationMinutes: 15 },
      admin: { listen: { host: '0.0.0.0', port: 8443 }, sessionIdleMinutes: 15, sessionAbsoluteHours: 8 },
    });
  });

  it('metrics.allow: addresses or networks of either family; anything else refused naming the setting', () => {
    writeSettings({ ...base, metrics: { allow: ['10.0.0.0/8', ' 192.0.2.7 ', '2001:db8::/32'] } });
    expect(loadConfig(dir, {}).metrics.allow).toEqual(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32']);
    writeSettings({ ...base, metrics: { allow: [] } });
    expect(loadConfig(dir, {}).metrics.allow).toEqual([]);
    for (const allow of [['10.0.0.1/8'], ['localhost'], '127.0.0.1/32', [42]]) {
      writeSettings({ ...base, metrics: { allow } });
      expect(() => loadConfig(dir, {})).toThrow(/metrics\.allow must be a list of addresses or networks/);
    }
  });

  it('log: three streams, each to stdout and/or syslog over udp, tcp or tls; mistakes named', () => {
    writeSettings({ ...base, log: {
      level: 'warn',
      system: { syslog: { host: 'logs.lan' } },
      auth: { stdout: true, syslog: { transport: 'tcp', host: '10.0.0.5', port: 601, facility: 'local3' } },
      audit: { stdout: false, syslog: { transport: 'tls', host: 'siem.lan', caFile: 'siem-ca.pem' } },
      stdoutBufferKiB: 1024,
    } });
    const c = loadConfig(dir, {});
    expect(c.logLevel).toBe('warn');
    expect(c.log).toEqual({
      level: 'warn',
      system: { stdout: true, syslog: { transport: 'udp', host: 'logs.lan', port: 514, facility: 3 } },
      auth: { stdout: true, syslog: { transport: 'tcp', host: '10.0.0.5', port: 601, facility: 19 } },
      audit: { stdout: false, syslog: { transport: 'tls', host: 'siem.lan', port: 6514, facility: 13, caFile: join(dir, 'siem-ca.pem') } },
      stdoutBufferKiB: 1024,
    });
    const bad: [unknown, RegExp][] = [
      [{ auth: { syslog: { transport: 'relp', host: 'h' } } }, /log\.auth\.syslog\.transport must be "udp", "tcp" or "tls"/],
      [{ audit: { syslog: { transport: 'tls', host: 'h' } } }, /log\.audit\.syslog\.caFile must name the CA file/],
      [{ system: { syslog: { port: 514 } } }, /log\.system\.syslog\.host must name the syslog server/],
      [{ system: { syslog: { host: 'h', port: 70000 } } }, /log\.system\.syslog\.port must be a whole number from 1 to 65535/],
      [{ system: { syslog: { host: 'h', facility: 'mail2' } } }, /log\.system\.syslog\.facility must be a facility name/],
      [{ system: { stdout: 'yes' } }, /log\.system\.stdout must be true or false/],
      [{ stdoutBufferKiB: 8 }, /log\.stdoutBufferKiB must be a whole number from 64 to 1048576/],
    ];
    for (const [log, message] of bad) {
      writeSettings({ ...base, log });
      expect(() => loadConfig(dir, {})).toThrow(message);
    }
  });

  it('expiry: thresholds, SMTP and webhook; mistakes named', () => {
    writeSettings({ ...base, expiry: {
      days: [7, 30, 1, 7],
      smtp: { host: 'mail.lan', from: 'authbox@city.example', to: ['pki@city.example'], user: 'authbox', passwordFile: 'smtp.pw' },
      webhook: { url: 'https://hooks.lan/pki', secretFile: '/etc/authbox/hook.key' },
    } });
    expect(loadConfig(dir, {}).expiry).toEqual({
      days: [30, 7, 1],
      smtp: { host: 'mail.lan', port: 25, starttls: true, from: 'authbox@city.example', to: ['pki@city.example'], user: 'authbox', passwordFile: join(dir, 'smtp.pw') },
      webhook: { url: 'https://hooks.lan/pki', secretFile: '/etc/authbox/hook.key' },
    });
    const bad: [unknown, RegExp][] = [
      [{ days: [0] }, /expiry\.days must be a list of whole numbers/],
      [{ days: [] }, /expiry\.days must be a list of whole numbers/],
      [{ smtp: { host: 'm', from: 'a@b', to: [] } }, /expiry\.smtp\.to must be a list of one or more e-mail addresses/],
      [{ smtp: { host: 'm', from: 'nobody', to: ['a@b'] } }, /expiry\.smtp\.from must be an e-mail address/],
      [{ smtp: { host: 'm', from: 'a@b', to: ['a@b'], user: 'u' } }, /expiry\.smtp\.user and expiry\.smtp\.passwordFile go together/],
      [{ webhook: { url: 'ftp://x' } }, /expiry\.webhook\.url must be an http\(s\) URL/],
    ];
    for (const [expiry, message] of bad) {
      writeSettings({ ...base, expiry });
      expect(() => loadConfig(dir, {})).toThrow(message);
    }
  });

  it('takes RADIUS listeners from the command line, several separated by commas', () => {
    writeSettings(base);
    const c = loadConfig(dir, {}, { radiusListen: '127.0.0.1:11812,[::1]:11812', radiusAcctListen: '127.0.0.1:0' });
    expect(c.radius.auth).toEqual([{ host: '127.0.0.1', port: 11812 }, { host: '::1', port: 11812 }]);
    expect(c.radius.acct).toEqual([{ host: '127.0.0.1', port: 0 }]);
    expect(() => loadConfig(dir, {}, { radiusListen: 'nonsense' })).toThrow(/--radius must be ADDRESS:PORT/);
    expect(loadConfig(dir, {}, { logLevel: 'debug' }).logLevel).toBe('debug');
    expect(loadConfig(dir, {}, { logLevel: 'debug' }).log.level).toBe('debug');
    expect(DEFAULT_EAP_WORKERS).toBe(Math.min(8, availableParallelism()));
    expect(loadConfig(dir, {}, { eapWorkers: 0 }).radius.eapWorkers).toBe(0);
    expect(() => loadConfig(dir, {}, { eapWorkers: 65 })).toThrow(/radius.eapWorkers must be a whole number from 0 to 64/);
    expect(() => loadConfig(dir, {}, { logLevel: 'verbose' })).toThrow(/log level must be one of debug, info, warn, error/);
  });

  it('applies stored settings, and command-line overrides over them', () => {
    writeSettings({
      ...base,
      keyType: 'rsa-3072',
      http: { listen: '127.0.0.1:9000', workers: 4, maxBodyBytes: 4096 },
      ocsp: { validitySeconds: 600, cacheMaxAgeSeconds: 0, cacheEntries: 1000 },
      crl: { validitySeconds: 3600, debounceMs: 0 },
    });
    const stored = loadConfig(dir, {});
    expect(stored.keyType).toBe('rsa-3072');
    expect(stored.http).toEqual({ listen: { host: '127.0.0.1', port: 9000 }, workers: 4, maxBodyBytes: 4096 });
    expect(stored.ocsp).toEqual({ validitySeconds: 600, cacheMaxAgeSeconds: 0, cacheEntries: 1000 });
    expect(stored.crl).toEqual({ validitySeconds: 3600, debounceMs: 0 });
    const over = loadConfig(dir, {}, { httpListen: '[::]:8443', httpWorkers: 1 });
    expect(over.http.listen).toEqual({ host: '::', port: 8443 });
    expect(over.http.workers).toBe(1);
    expect(over.http.maxBodyBytes).toBe(4096);
  });

  it('is deeply frozen: assignment throws in strict mode (ESM modules are strict)', () => {
    writeSettings(base);
    const c = loadConfig(dir, {});
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (c as { organization: string }).organization = 'x';
    }).toThrow(TypeError);
    expect(() => {
      (c.http.listen as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (c.ocsp as { validitySeconds: number }).validitySeconds = 1;
    }).toThrow(TypeError);
    expect(c.http.listen.port).toBe(8080);
  });

  it('a folder without authbox.json is DATA_DIR_MISSING', () => {
    expect(codeOf(() => loadConfig(dir, {}))).toBe('DATA_DIR_MISSING');
    expect(codeOf(() => loadConfig(join(dir, 'nope'), {}))).toBe('DATA_DIR_MISSING');
  });

  it('an unknown keyType is KEY_TYPE_UNSUPPORTED', () => {
    writeSettings({ ...base, keyType: 'rsa-1024' });
    expect(codeOf(() => loadConfig(dir, {}))).toBe('KEY_TYPE_UNSUPPORTED');
  });

  it('invalid JSON is BAD_INPUT', () => {
    writeFileSync(join(dir, CONFIG_FILE), '{"organization": "x",');
    expect(codeOf(() => loadConfig(dir, {}))).toBe('BAD_INPUT');
  });

  const invalid: [string, unknown][] = [
    ['no organization', { publicUrl: 'http://x' }],
    ['no publicUrl', { organization: 'x' }],
    ['a JSON null', null],
    ['a JSON array', []],
    ['a JSON string', 'authbox'],
    ['a bad listen address', { ...base, http: { listen: '8080' } }],
    ['zero workers', { ...base, http: { workers: 0 } }],
    ['workers as a string', { ...base, http: { workers: '2' } }],
    ['a tiny maxBodyBytes', { ...base, http: { maxBodyBytes: 10 } }],
    ['OCSP validity under a minute', { ...base, ocsp: { validitySeconds: 59 } }],
    ['a negative OCSP max-age', { ...base, ocsp: { cacheMaxAgeSeconds: -1 } }],
    ['a tiny OCSP cache', { ...base, ocsp: { cacheEntries: 99 } }],
    ['a CRL validity under five minutes', { ...base, crl: { validitySeconds: 299 } }],
    ['a number that parses as Infinity', '{"organization":"x","publicUrl":"http://x","crl":{"debounceMs":1e400}}'],
  ];
  for (const [name, settings] of invalid) {
    it(`${name} is BAD_INPUT`, () => {
      writeFileSync(join(dir, CONFIG_FILE), typeof settings === 'string' && settings.startsWith('{') ? settings : JSON.stringify(settings));
      expect(codeOf(() => loadConfig(dir, {}))).toBe('BAD_INPUT');
    });
  }
});

describe('masterKeyPath', () => {
  it('prefers AUTHBOX_MASTER_KEY_FILE', () => {
    const creds = join(dir, 'creds');
    mkdirSync(creds);
    writeFileSync(join(creds, MASTER_KEY_CREDENTIAL), 'x');
    expect(masterKeyPath('/data', { AUTHBOX_MASTER_KEY_FILE: '/etc/authbox/key', CREDENTIALS_DIRECTORY: creds })).toBe('/etc/authbox/key');
  });

  it('then $CREDENTIALS_DIRECTORY/authbox-master-key when it exists', () => {
    const creds = join(dir, 'creds');
    mkdirSync(creds);
    writeFileSync(join(creds, MASTER_KEY_CREDENTIAL), 'x');
    expect(masterKeyPath('/data', { CREDENTIALS_DIRECTORY: creds })).toBe(join(creds, 'authbox-master-key'));
  });

  it('else DIR/master.key (also when the credentials folder lacks the credential)', () => {
    expect(masterKeyPath('/data', {})).toBe('/data/master.key');
    expect(masterKeyPath('/data', { CREDENTIALS_DIRECTORY: dir })).toBe('/data/master.key');
    expect(masterKeyPath('/data', { AUTHBOX_MASTER_KEY_FILE: '' })).toBe('/data/master.key');
  });

  it('loadConfig takes it from the environment it is given, not process.env', () => {
    writeSettings(base);
    expect(loadConfig(dir, { AUTHBOX_MASTER_KEY_FILE: '/k' }).masterKeyFile).toBe('/k');
    expect(loadConfig(dir, {}).masterKeyFile).toBe(join(dir, 'master.key'));
  });
});

describe('readMasterKey', () => {
  const keyFile = (): string => join(dir, 'master.key');
  const writeKey = (text: string, mode: number): void => {
    writeFileSync(keyFile(), text, { mode });
    chmodSync(keyFile(), mode); // the umask may have cleared bits
  };

  it('reads 32 base64 bytes from a 0600 file, ignoring the trailing newline', () => {
    const key = randomBytes(32);
    writeKey(key.toString('base64') + '\n', 0o600);
    expect(readMasterKey(keyFile()).equals(key)).toBe(true);
    chmodSync(keyFile(), 0o400);
    expect(readMasterKey(keyFile()).equals(key)).toBe(true);
  });

  for (const mode of [0o644, 0o640, 0o604, 0o660, 0o601]) {
    it(`refuses mode ${mode.toString(8)} with MASTER_KEY_INVALID`, () => {
      writeKey(randomBytes(32).toString('base64') + '\n', mode);
      expect(codeOf(() => readMasterKey(keyFile()))).toBe('MASTER_KEY_INVALID');
    });
  }

  it('a missing file is MASTER_KEY_MISSING', () => {
    expect(codeOf(() => readMasterKey(keyFile()))).toBe('MASTER_KEY_MISSING');
  });

  for (const n of [0, 16, 31, 33, 64]) {
    it(`${n} bytes is MASTER_KEY_INVALID`, () => {
      writeKey(randomBytes(n).toString('base64') + '\n', 0o600);
      expect(codeOf(() => readMasterKey(keyFile()))).toBe('MASTER_KEY_INVALID');
    });
  }

  it('text that is not base64 is MASTER_KEY_INVALID', () => {
    writeKey('this is not a key at all, not even close!!\n', 0o600);
    expect(codeOf(() => readMasterKey(keyFile()))).toBe('MASTER_KEY_INVALID');
  });
});
