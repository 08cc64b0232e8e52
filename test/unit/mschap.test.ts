// src/radius/mschap: single DES against FIPS/NBS known answers and OpenSSL's legacy
// provider; MS-CHAPv2 against the RFC 2759 §9.2 example; 128-bit MPPE keys against
// RFC 3079 §3.5.3; CHAP against MD5 vectors computed once with Python's hashlib (an
// independent implementation), not by this code.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ntHash } from '../../src/core/md4.js';
import { desEncrypt, desEncryptBlock, expandDesKey } from '../../src/radius/mschap/des.js';
import {
  challengeHash,
  challengeResponse,
  generateAuthenticatorResponse,
  generateNtResponse,
  hashNtPasswordHash,
  MSCHAP_ERROR,
  msChap2SuccessValue,
  msChapErrorValue,
  mschapv2ErrorMessage,
  mppeAsymmetricStartKey,
  mppeKeys128,
  mppeMasterKey,
  parseMsChap2Response,
  userNameWithoutDomain,
  verifyMschapv2,
} from '../../src/radius/mschap/mschapv2.js';
import { chapChallenge, chapResponse, verifyChap } from '../../src/radius/mschap/chap.js';

const unhex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const HEX = (b: Buffer): string => b.toString('hex').toUpperCase();

describe('DES (FIPS 46-3)', () => {
  it('matches published known-answer vectors', () => {
    const vectors: [key: string, plain: string, cipher: string][] = [
      // The worked example used in most DES walk-throughs.
      ['133457799BBCDFF1', '0123456789ABCDEF', '85E813540F0AB405'],
      // "Now is t", the classic FIPS 81 example block.
      ['0123456789ABCDEF', '4E6F772069732074', '3FA40E8A984D4815'],
      // NBS SP 500-20 / NIST SP 800-17: variable plaintext, variable key, S-box tests.
      ['0101010101010101', '8000000000000000', '95F8A5E5DD31D900'],
      ['0101010101010101', '4000000000000000', 'DD7F121CA5015619'],
      ['0101010101010101', '2000000000000000', '2E8653104F3834EA'],
      ['8001010101010101', '0000000000000000', '95A8D72813DAA94D'],
      ['4001010101010101', '0000000000000000', '0EEC1487DD8C26D5'],
      ['7CA110454A1A6E57', '01A1D6D039776742', '690F5B0D9A26939B'],
      ['0131D9619DC1376E', '5CD54CA83DEF57DA', '7A389D10354BD271'],
      // Weak keys: all-zero and all-one key bits.
      ['0101010101010101', '0000000000000000', '8CA64DE9C1B123A7'],
      ['FEFEFEFEFEFEFEFE', 'FFFFFFFFFFFFFFFF', '7359B2163E4EDC58'],
    ];
    for (const [key, plain, cipher] of vectors) {
      expect(HEX(desEncryptBlock(unhex(key), unhex(plain))), `${key} ${plain}`).toBe(cipher);
    }
  });

  it('ignores the parity bits of the key', () => {
    const plain = unhex('0123456789ABCDEF');
    const key = unhex('133457799BBCDFF1');
    const flipped = Buffer.from(key.map((b) => b ^ 1));
    expect(desEncryptBlock(flipped, plain)).toEqual(desEncryptBlock(key, plain));
  });

  it('spreads a 7-octet key over 8 octets with odd parity (RFC 2759 §8.6)', () => {
    expect(HEX(expandDesKey(unhex('FFFFFFFFFFFFFF')))).toBe('FEFEFEFEFEFEFEFE');
    expect(HEX(expandDesKey(unhex('00000000000000')))).toBe('0101010101010101');
    // Key bits 1, 8, 15, ... 50 are each the first of a group of seven: every octet is 0x80
    // (one bit set, so the parity bit stays clear).
    expect(HEX(expandDesKey(unhex('81020408102040')))).toBe('8080808080808080');
    // 0x7F: six ones in the first group (0x7E, even, so parity 1), and the last bit of the
    // first octet starts group two (0x80, odd already); the empty groups get parity 1.
    expect(HEX(expandDesKey(unhex('7F000000000000')))).toBe('7F80010101010101');
    for (const octet of expandDesKey(randomBytes(7))) {
      let ones = 0;
      for (let v = octet; v; v >>= 1) ones += v & 1;
      expect(ones % 2).toBe(1);
    }
    const key56 = unhex('0123456789ABCD');
    expect(desEncrypt(unhex('0011223344556677'), key56)).toEqual(desEncryptBlock(expandDesKey(key56), unhex('0011223344556677')));
  });

  it('rejects keys and blocks of the wrong size', () => {
    expect(() => desEncryptBlock(Buffer.alloc(7), Buffer.alloc(8))).toThrow(RangeError);
    expect(() => desEncryptBlock(Buffer.alloc(8), Buffer.alloc(9))).toThrow(RangeError);
    expect(() => expandDesKey(Buffer.alloc(8))).toThrow(RangeError);
  });

  it('agrees with OpenSSL (legacy provider) on random keys and blocks', () => {
    const openssl = (key: Buffer, plain: Buffer): Buffer | undefined => {
      try {
        return execFileSync(
          'openssl',
          ['enc', '-des-ecb', '-provider', 'legacy', '-provider', 'default', '-K', key.toString('hex'), '-nopad'],
          { input: plain, stdio: ['pipe', 'pipe', 'ignore'] },
        );
      } catch {
        return undefined;
      }
    };
    // The openssl CLI with its legacy provider (Debian's openssl package ships it) is the
    // independent judge here: its absence fails the test rather than skipping it.
    expect(openssl(Buffer.alloc(8), Buffer.alloc(8)), 'openssl enc -des-ecb -provider legacy').toBeDefined();
    for (let run = 0; run < 24; run++) {
      const key = randomBytes(8);
      const plain = randomBytes(8 * 8); // ECB: eight independent blocks per process
      const expected = openssl(key, plain)!;
      for (let i = 0; i < plain.length; i += 8) {
        const block = plain.subarray(i, i + 8);
        expect(HEX(desEncryptBlock(key, block)), `key ${key.toString('hex')} block ${block.toString('hex')}`).toBe(
          HEX(expected.subarray(i, i + 8)),
        );
      }
    }
  });
});

describe('MS-CHAPv2 (RFC 2759 §9.2 example)', () => {
  const userName = 'User';
  const password = 'clientPass';
  const authenticatorChallenge = unhex('5B5D7C7D7B3F2F3E3C2C602132262628');
  const peerChallenge = unhex('21402324255E262A28295F2B3A337C7E');
  const ntResponse = unhex('82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF');
  const passwordHash = ntHash(password);
  const exchange = { ntHash: passwordHash, authenticatorChallenge, peerChallenge, userName };

  it('computes every intermediate value of the example', () => {
    expect(HEX(challengeHash(peerChallenge, authenticatorChallenge, userName))).toBe('D02E4386BCE91226');
    expect(HEX(passwordHash)).toBe('44EBBA8D5312B8D611474411F56989AE');
    expect(HEX(hashNtPasswordHash(passwordHash))).toBe('41C00C584BD2D91C4017A2A12FA59F3F');
    expect(HEX(challengeResponse(unhex('D02E4386BCE91226'), passwordHash))).toBe(HEX(ntResponse));
    expect(HEX(generateNtResponse(exchange))).toBe(HEX(ntResponse));
    expect(generateAuthenticatorResponse({ ...exchange, ntResponse })).toBe('S=407A5589115FD0D6209F510FE9C04566932CDA56');
  });

  it('accepts the example response and returns the authenticator response', () => {
    const result = verifyMschapv2({ ...exchange, ntResponse });
    expect(result).toEqual({ ok: true, authenticatorResponse: 'S=407A5589115FD0D6209F510FE9C04566932CDA56' });
  });

  it('refuses a wrong password, a flipped bit, another user name or another challenge', () => {
    expect(verifyMschapv2({ ...exchange, ntHash: ntHash('clientpass'), ntResponse })).toEqual({ ok: false });
    for (let bit = 0; bit < 24 * 8; bit += 13) {
      const altered = Buffer.from(ntResponse);
      altered[bit >> 3]! ^= 1 << (bit & 7);
      expect(verifyMschapv2({ ...exchange, ntResponse: altered }).ok, `bit ${bit}`).toBe(false);
    }
    expect(verifyMschapv2({ ...exchange, userName: 'user', ntResponse }).ok).toBe(false);
    const otherChallenge = Buffer.from(authenticatorChallenge);
    otherChallenge[15]! ^= 0x80;
    expect(verifyMschapv2({ ...exchange, authenticatorChallenge: otherChallenge, ntResponse }).ok).toBe(false);
  });

  it('treats inputs of the wrong size as a failure, not an exception', () => {
    expect(verifyMschapv2({ ...exchange, ntResponse: ntResponse.subarray(0, 23) })).toEqual({ ok: false });
    expect(verifyMschapv2({ ...exchange, peerChallenge: Buffer.alloc(8), ntResponse })).toEqual({ ok: false });
    expect(verifyMschapv2({ ...exchange, authenticatorChallenge: Buffer.alloc(0), ntResponse })).toEqual({ ok: false });
    expect(verifyMschapv2({ ...exchange, ntHash: Buffer.alloc(15), ntResponse })).toEqual({ ok: false });
  });

  it('hashes the user name without its domain prefix (RFC 2759 §8.2)', () => {
    expect(userNameWithoutDomain('EXAMPLE\\User')).toBe('User');
    expect(userNameWithoutDomain('User')).toBe('User');
    expect(userNameWithoutDomain('user@example.org')).toBe('user@example.org');
    expect(HEX(challengeHash(peerChallenge, authenticatorChallenge, 'EXAMPLE\\User'))).toBe('D02E4386BCE91226');
    expect(verifyMschapv2({ ...exchange, userName: 'EXAMPLE\\User', ntResponse }).ok).toBe(true);
  });

  it('round-trips a fresh exchange', () => {
    const fresh = { ntHash: ntHash('pässwörd 🔑'), authenticatorChallenge: randomBytes(16), peerChallenge: randomBytes(16), userName: 'alice' };
    const response = generateNtResponse(fresh);
    const result = verifyMschapv2({ ...fresh, ntResponse: response });
    expect(result.ok).toBe(true);
    expect(result.authenticatorResponse).toMatch(/^S=[0-9A-F]{40}$/);
  });
});

describe('MPPE keys (RFC 3079 §3.5.3, 128-bit)', () => {
  const passwordHash = ntHash('clientPass');
  const ntResponse = unhex('82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF');

  it('matches the RFC example', () => {
    const masterKey = mppeMasterKey(hashNtPasswordHash(passwordHash), ntResponse);
    expect(HEX(masterKey)).toBe('FDECE3717A8C838CB388E527AE3CDD31');
    // RFC 3079 §3.5.3 prints SendStartKey128 from the server's side (Magic3).
    expect(HEX(mppeAsymmetricStartKey(masterKey, 16, true, true))).toBe('8B7CDC149B993A1BA118CB153F56DCCB');
  });

  it('gives the server send key to MS-MPPE-Send-Key and the receive key to MS-MPPE-Recv-Key', () => {
    const keys = mppeKeys128(passwordHash, ntResponse);
    expect(HEX(keys.masterKey)).toBe('FDECE3717A8C838CB388E527AE3CDD31');
    expect(HEX(keys.sendKey)).toBe('8B7CDC149B993A1BA118CB153F56DCCB');
    // Not printed in the RFC: computed once with Python's hashlib from the RFC 3079 §3.4
    // pseudocode (Magic2); the same value as the peer's send key in wpa_supplicant-based
    // clients, which is what makes the two directions line up.
    expect(HEX(keys.receiveKey)).toBe('D5F0E9521E3EA9589645E86051C82226');
  });

  it('mirrors the keys between the two sides', () => {
    const masterKey = mppeKeys128(passwordHash, ntResponse).masterKey;
    const serverSend = mppeAsymmetricStartKey(masterKey, 16, true, true);
    const clientReceive = mppeAsymmetricStartKey(masterKey, 16, false, false);
    const serverReceive = mppeAsymmetricStartKey(masterKey, 16, false, true);
    const clientSend = mppeAsymmetricStartKey(masterKey, 16, true, false);
    expect(serverSend).toEqual(clientReceive);
    expect(serverReceive).toEqual(clientSend);
    expect(serverSend).not.toEqual(serverReceive);
    // RFC 3079 §3.5.1/§3.5.2: shorter keys are prefixes of the same digest.
    expect(HEX(mppeAsymmetricStartKey(masterKey, 8, true, true))).toBe('8B7CDC149B993A1B');
  });
});

describe('MS-CHAP attribute values (RFC 2548, RFC 2759 §6)', () => {
  it('parses MS-CHAP2-Response (RFC 2548 §2.3.2)', () => {
    const peerChallenge = unhex('21402324255E262A28295F2B3A337C7E');
    const ntResponse = unhex('82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF');
    const value = Buffer.concat([Buffer.from([0x2a, 0x00]), peerChallenge, Buffer.alloc(8), ntResponse]);
    expect(parseMsChap2Response(value)).toEqual({ ident: 0x2a, flags: 0, peerChallenge, ntResponse });
    expect(parseMsChap2Response(value.subarray(0, 49))).toBeUndefined();
    expect(parseMsChap2Response(Buffer.concat([value, Buffer.alloc(1)]))).toBeUndefined();
  });

  it('builds MS-CHAP2-Success: ident then the 42-octet "S=" string (RFC 2548 §2.3.3)', () => {
    const value = msChap2SuccessValue(0x2a, 'S=407A5589115FD0D6209F510FE9C04566932CDA56');
    expect(value.length).toBe(43);
    expect(value[0]).toBe(0x2a);
    expect(value.subarray(1).toString('ascii')).toBe('S=407A5589115FD0D6209F510FE9C04566932CDA56');
  });

  it('builds the failure message and MS-CHAP-Error (RFC 2759 §6, RFC 2548 §2.1.5)', () => {
    const challenge = unhex('5B5D7C7D7B3F2F3E3C2C602132262628');
    const message = mschapv2ErrorMessage({ challenge });
    expect(message).toBe('E=691 R=0 C=5B5D7C7D7B3F2F3E3C2C602132262628 V=3 M=Authentication failure');
    expect(mschapv2ErrorMessage({ challenge, error: MSCHAP_ERROR.ACCT_DISABLED, retry: true, message: 'Account disabled' })).toBe(
      'E=647 R=1 C=5B5D7C7D7B3F2F3E3C2C602132262628 V=3 M=Account disabled',
    );
    const value = msChapErrorValue(7, message);
    expect(value[0]).toBe(7);
    expect(value.subarray(1).toString('ascii')).toBe(message);
    expect(() => mschapv2ErrorMessage({ challenge: Buffer.alloc(8) })).toThrow(RangeError);
  });
});

describe('CHAP (RFC 1994, RFC 2865 §5.3)', () => {
  const challenge = Buffer.from(Array.from({ length: 16 }, (_, i) => i));
  // MD5(0x2a | "testing123pw" | 00 01 .. 0f), computed with Python's hashlib.
  const response = unhex('be6129c53984b384dd0f835b293917e0');
  const chapPassword = Buffer.concat([Buffer.from([0x2a]), response]);

  it('matches a hand-computed MD5 vector', () => {
    expect(chapResponse(0x2a, 'testing123pw', challenge)).toEqual(response);
    expect(verifyChap({ password: 'testing123pw', chapPassword, challenge })).toBe(true);
    // A non-ASCII password (UTF-8) with a 17-octet CHAP-Challenge.
    const challenge17 = unhex('0123456789abcdeffedcba9876543210aa');
    const value = Buffer.concat([Buffer.from([7]), unhex('05ace37f09fe9c522e72136584d2b025')]);
    expect(verifyChap({ password: 'パスワード', chapPassword: value, challenge: challenge17 })).toBe(true);
  });

  it('refuses a wrong password, another ident or another challenge', () => {
    expect(verifyChap({ password: 'testing123px', chapPassword, challenge })).toBe(false);
    expect(verifyChap({ password: 'testing123pw', chapPassword: Buffer.concat([Buffer.from([0x2b]), response]), challenge })).toBe(false);
    expect(verifyChap({ password: 'testing123pw', chapPassword, challenge: Buffer.from(challenge).reverse() })).toBe(false);
  });

  it('refuses malformed values without throwing', () => {
    expect(verifyChap({ password: 'testing123pw', chapPassword: chapPassword.subarray(0, 16), challenge })).toBe(false);
    expect(verifyChap({ password: 'testing123pw', chapPassword: Buffer.concat([chapPassword, Buffer.alloc(1)]), challenge })).toBe(false);
    expect(verifyChap({ password: 'testing123pw', chapPassword, challenge: Buffer.alloc(0) })).toBe(false);
  });

  it('takes the challenge from CHAP-Challenge, else from the Request Authenticator', () => {
    const authenticator = randomBytes(16);
    expect(chapChallenge(undefined, authenticator)).toEqual(authenticator);
    expect(chapChallenge(challenge, authenticator)).toEqual(challenge);
    expect(() => chapChallenge(undefined, Buffer.alloc(15))).toThrow(RangeError);
  });
});
