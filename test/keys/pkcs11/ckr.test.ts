import { expect } from 'chai';
import { CKR, ckrName, classifyCkr, returnValueOf } from '../../../src/keys/pkcs11/ckr.js';
import { importPkcs11Js } from '../../../src/keys/pkcs11/library.js';

describe('PKCS#11 return values', () => {
  it('uses the same numbers as the pkcs11js binding for every CKR it names', async () => {
    const api = (await importPkcs11Js()) as unknown as Record<string, unknown>;
    const mismatched = Object.entries(CKR).filter(([name, value]) => api[`CKR_${name}`] !== value);
    expect(mismatched).to.deep.equal([]);
  });

  const table: [keyof typeof CKR, string][] = [
    ['SESSION_HANDLE_INVALID', 'reopen'],
    ['SESSION_CLOSED', 'reopen'],
    ['USER_NOT_LOGGED_IN', 'reopen'],
    ['DEVICE_REMOVED', 'reopen'],
    ['TOKEN_NOT_PRESENT', 'reopen'],
    ['CRYPTOKI_NOT_INITIALIZED', 'reopen'],
    ['OBJECT_HANDLE_INVALID', 'reopen'],
    ['PIN_INCORRECT', 'pin'],
    ['PIN_LOCKED', 'pin'],
    ['PIN_INVALID', 'pin'],
    ['PIN_EXPIRED', 'pin'],
    ['DEVICE_ERROR', 'transient'],
    ['FUNCTION_FAILED', 'transient'],
    ['CANT_LOCK', 'fatal'],
    ['USER_ALREADY_LOGGED_IN', 'fatal'],
  ];
  for (const [name, expected] of table) {
    it(`classifies CKR_${name} as ${expected}`, () => {
      expect(classifyCkr(CKR[name])).to.equal(expected);
    });
  }

  it('names known values and prints unknown ones in hex', () => {
    expect([ckrName(0xa0), ckrName(0x80000001)]).to.deep.equal(['CKR_PIN_INCORRECT', 'CKR_0x80000001']);
  });

  it('reads the value of a pkcs11js Pkcs11Error and nothing else', async () => {
    const api = await importPkcs11Js();
    const e = new api.Pkcs11Error('CKR_PIN_INCORRECT:160', 160, 'C_Login');
    expect([returnValueOf(e), returnValueOf(new Error('CKR_PIN_INCORRECT:160')), returnValueOf(undefined)]).to.deep.equal([160, undefined, undefined]);
  });
});
