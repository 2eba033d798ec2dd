import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicConstraints, Certificate, KeyUsage, KeyUsageFlags, id_ce_basicConstraints, id_ce_keyUsage } from '@peculiar/asn1-x509';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCertificateFields, type RawCertificateFields } from '../../src/keys/certificate-der.js';
import { issue, makePki } from '../helpers/pki.js';
import { makeTempDir } from '../helpers/tmp.js';

/** The same fields read by the full ASN.1 library the reader replaces on the start-up path. */
function byLibrary(der: Buffer): RawCertificateFields {
  const asn = AsnConvert.parse(der, Certificate);
  const tbs = asn.tbsCertificate;
  let ca = false;
  let digitalSignature: boolean | undefined;
  for (const ext of tbs.extensions ?? []) {
    if (ext.extnID === id_ce_basicConstraints) ca = AsnConvert.parse(ext.extnValue.buffer, BasicConstraints).cA;
    if (ext.extnID === id_ce_keyUsage) digitalSignature = (AsnConvert.parse(ext.extnValue.buffer, KeyUsage).toNumber() & KeyUsageFlags.digitalSignature) !== 0;
  }
  const params = asn.signatureAlgorithm.parameters;
  const pss = asn.signatureAlgorithm.algorithm === '1.2.840.113549.1.1.10' && params && params.byteLength > 2;
  const hashOid = pss ? AsnConvert.parse(params, RsaSaPssParams).hashAlgorithm.algorithm : undefined;
  return {
    version: tbs.version,
    ca,
    digitalSignature,
    signatureAlgorithmOid: asn.signatureAlgorithm.algorithm,
    pssHashOid: hashOid === '1.3.14.3.2.26' ? undefined : hashOid,
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
  };
}

function openssl(dir: string, name: string, args: string[]): Buffer {
  const out = join(dir, `${name}.der`);
  execFileSync('openssl', [...args, '-outform', 'DER', '-out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  return readFileSync(out);
}

describe('readCertificateFields: the certificate facts without the ASN.1 library', () => {
  it('reads what @peculiar/asn1-x509 reads, for generated CA, leaf, EC, SHA-1, no-keyUsage and expired certificates', async () => {
    const rsa = await makePki('rsa');
    const ec = await makePki('ec');
    const certs = [
      rsa.root, rsa.intermediate, rsa.leaf, ec.root, ec.leaf,
      await issue({ name: 'sha1', kind: 'ec', issuer: ec.intermediate, hash: 'SHA-1' }),
      await issue({ name: 'no-ku', kind: 'rsa', issuer: rsa.intermediate, noKeyUsage: true }),
      await issue({ name: 'ku-no-ds', kind: 'ec', issuer: ec.intermediate, keyUsages: 4 }),
      await issue({ name: 'old', kind: 'ec', issuer: ec.intermediate, notBefore: new Date('1999-01-01T00:00:00Z'), notAfter: new Date('2051-06-30T12:34:56Z') }),
    ];
    for (const c of certs) {
      const der = c.nodeCert.raw;
      expect(readCertificateFields(der), `fields of ${c.nodeCert.subject}`).to.deep.equal(byLibrary(der));
    }
  });

  it('reads v1, RSASSA-PSS (default and SHA-384 parameters) and GeneralizedTime certificates made by openssl', () => {
    const { dir, cleanup } = makeTempDir('ra-der-');
    try {
      const key = join(dir, 'k.pem');
      execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key], { stdio: 'ignore' });
      writeFileSync(join(dir, 'empty.cnf'), '[req]\ndistinguished_name=dn\n[dn]\n');
      const req = ['req', '-x509', '-new', '-key', key, '-subj', '/CN=der-test', '-config', join(dir, 'empty.cnf')];
      const samples: Record<string, Buffer> = {
        v1: openssl(dir, 'v1', [...req, '-days', '1']),
        pssSha384: openssl(dir, 'pss', [...req, '-days', '1', '-sha384', '-sigopt', 'rsa_padding_mode:pss', '-addext', 'keyUsage=digitalSignature']),
        generalizedTime: openssl(dir, 'gt', [...req, '-days', '40000', '-addext', 'basicConstraints=critical,CA:true']),
      };
      for (const [name, der] of Object.entries(samples)) {
        expect(readCertificateFields(der), name).to.deep.equal(byLibrary(der));
      }
      expect(readCertificateFields(samples['pssSha384']!).pssHashOid, 'PSS hash of the SHA-384 sample').to.equal('2.16.840.1.101.3.4.2.2');
      expect(readCertificateFields(samples['generalizedTime']!).notAfter.getUTCFullYear(), 'year past 2049 (GeneralizedTime)').to.be.greaterThan(2100);
    } finally {
      cleanup();
    }
  });

  it('throws a RangeError on truncated or non-certificate DER', async () => {
    const { leaf } = await makePki('ec');
    const der = leaf.nodeCert.raw;
    for (const bad of [der.subarray(0, der.length - 10), Buffer.from('3003020101', 'hex'), Buffer.alloc(0)]) {
      expect(() => readCertificateFields(bad), `input of ${bad.length} bytes`).to.throw(RangeError);
    }
  });
});
