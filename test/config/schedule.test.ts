import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { parseSchedule, type ResolvedProfile } from '../../src/config/index.js';
import { HOME, issuesOf, parse, PR, ROLE, TA, deps, yaml } from './fixtures.js';

const base = yaml`
  defaults:
    certificate: /etc/pki/host.pem
    private_key: /etc/pki/host.key
    trust_anchor_arn: ${TA}
    profile_arn: ${PR}
`;

function only(text: string): ResolvedProfile {
  const s = parse(text);
  expect(s.profiles, 'exactly one profile').to.have.length(1);
  return s.profiles[0]!;
}

describe('parseSchedule: good schedules', () => {
  it('fills a profile from defaults and resolves the region from the trust anchor ARN', () => {
    const p = only(base + yaml`
      profiles:
        default:
          role_arn: ${ROLE}
    `);
    expect(p).to.deep.include({
      name: 'default',
      certificate: '/etc/pki/host.pem',
      privateKey: '/etc/pki/host.key',
      trustAnchorArn: TA,
      profileArn: PR,
      roleArn: ROLE,
      region: 'eu-west-1',
      partition: 'aws',
      fips: false,
      noVerifySsl: false,
      // with_proxy unset: the proxy variables are honoured, as they always were
      withProxy: true,
      reusePin: false,
      sessionDurationSeconds: 3600,
    });
    expect(p.refresh).to.deep.equal({ kind: 'before_expiry', marginSeconds: 900, jitterSeconds: 90, spreadFirst: true });
    expect(p.keyMaterial).to.deep.equal({ certificate: '/etc/pki/host.pem', privateKey: '/etc/pki/host.key' });
    expect(p.position, "the line of `default:`").to.deep.equal({ line: 7, column: 3 });
  });

  it('lets a profile override defaults key by key and keeps the rest', () => {
    const s = parse(base + yaml`
        session_duration: 2h
      profiles:
        default:
          role_arn: ${ROLE}
        backup:
          role_arn: arn:aws:iam::111122223333:role/backup
          role_session_name: nightly-backup
          certificate: /etc/pki/backup.pem
          session_duration: 900
    `);
    const [a, b] = s.profiles;
    expect([a!.name, a!.certificate, a!.sessionDurationSeconds, a!.roleSessionName]).to.deep.equal(['default', '/etc/pki/host.pem', 7200, undefined]);
    expect([b!.name, b!.certificate, b!.sessionDurationSeconds, b!.roleSessionName, b!.privateKey]).to.deep.equal([
      'backup',
      '/etc/pki/backup.pem',
      900,
      'nightly-backup',
      '/etc/pki/host.key',
    ]);
  });

  it('shortens the default refresh margin to a quarter of a short session', () => {
    const p = only(base + yaml`
        session_duration: 15m
      profiles:
        default: { role_arn: "${ROLE}" }
    `);
    expect(p.refresh).to.deep.equal({ kind: 'before_expiry', marginSeconds: 225, jitterSeconds: 23, spreadFirst: true });
  });

  it('reads a cron refresh with its time zone and jitter, and a before_expiry refresh with explicit jitter', () => {
    const s = parse(base + yaml`
      profiles:
        a: { role_arn: "${ROLE}", refresh: { cron: "*/20 * * * *", time_zone: Europe/Paris, jitter: 30s } }
        b: { role_arn: "${ROLE}", refresh: { before_expiry: 10m, jitter: 0 } }
    `);
    expect(s.profiles.map((p) => p.refresh)).to.deep.equal([
      { kind: 'cron', expression: '*/20 * * * *', timeZone: 'Europe/Paris', jitterSeconds: 30 },
      { kind: 'before_expiry', marginSeconds: 600, jitterSeconds: 0 },
    ]);
  });

  it('gives a before_expiry refresh without jitter the default jitter and a spread first refresh', () => {
    const p = only(base + yaml`
      profiles:
        default: { role_arn: "${ROLE}", refresh: { before_expiry: 20m } }
    `);
    expect(p.refresh).to.deep.equal({ kind: 'before_expiry', marginSeconds: 1200, jitterSeconds: 120, spreadFirst: true });
  });

  it('replaces refresh as a whole rather than merging it with the defaults', () => {
    const p = only(base + yaml`
        refresh: { before_expiry: 20m, jitter: 2m }
      profiles:
        default: { role_arn: "${ROLE}", refresh: { cron: "0 * * * *" } }
    `);
    expect(p.refresh).to.deep.equal({ kind: 'cron', expression: '0 * * * *', jitterSeconds: 0 });
  });

  it('unsets an inherited value with null', () => {
    const p = only(base + yaml`
        intermediates: /etc/pki/chain.pem
      profiles:
        default: { role_arn: "${ROLE}", intermediates: null }
    `);
    expect(p.intermediates).to.equal(undefined);
    expect(p.keyMaterial).to.not.have.property('intermediates');
  });

  it('lets a profile switch the key password from a file to an environment variable', () => {
    const p = only(base + yaml`
        private_key_password_file: /etc/pki/pass
      profiles:
        default: { role_arn: "${ROLE}", private_key_password_env: KEY_PASS }
    `);
    expect([p.privateKeyPasswordFile, p.privateKeyPasswordEnv]).to.deep.equal([undefined, 'KEY_PASS']);
    expect(p.keyMaterial.password).to.deep.equal({ env: 'KEY_PASS' });
  });

  it('builds PKCS#11 key material only for pkcs11: URIs', () => {
    const p = only(base + yaml`
      profiles:
        hsm:
          role_arn: ${ROLE}
          private_key: "pkcs11:token=agent;object=host-key"
          pkcs11_lib: /usr/lib/softhsm/libsofthsm2.so
          pkcs11_pin_file: /etc/pki/pin
          reuse_pin: true
    `);
    expect(p.keyMaterial).to.deep.equal({
      certificate: '/etc/pki/host.pem',
      privateKey: 'pkcs11:token=agent;object=host-key',
      pkcs11Lib: '/usr/lib/softhsm/libsofthsm2.so',
      pin: { file: '/etc/pki/pin' },
      reusePin: true,
    });
  });

  it('reads a PKCS11: URI in upper case as a token, as the command line does, not as a file in the schedule directory', () => {
    const p = only(base + yaml`
      profiles:
        hsm:
          role_arn: ${ROLE}
          private_key: "PKCS11:token=agent;object=host-key"
          pkcs11_lib: /usr/lib/softhsm/libsofthsm2.so
          pkcs11_pin_file: /etc/pki/pin
    `);
    expect(p.keyMaterial.privateKey, 'private_key as read').to.equal('PKCS11:token=agent;object=host-key');
    expect(p.keyMaterial.pkcs11Lib, 'pkcs11_lib kept (not refused as file-only)').to.equal('/usr/lib/softhsm/libsofthsm2.so');
  });

  it('keeps an ssh-agent: key source as written, with or without a socket path', () => {
    for (const value of ['ssh-agent:', 'ssh-agent:/run/user/1000/agent.sock']) {
      const p = only(base + yaml`
        profiles:
          agent:
            role_arn: ${ROLE}
            private_key: "${value}"
      `);
      expect(p.keyMaterial.privateKey, `private_key ${value}`).to.equal(value);
    }
  });

  it('accepts a PKCS#12 certificate without a private_key', () => {
    const p = only(yaml`
      profiles:
        default:
          certificate: /etc/pki/host.p12
          private_key_password_env: P12_PASS
          trust_anchor_arn: ${TA}
          profile_arn: ${PR}
          role_arn: ${ROLE}
    `);
    expect(p.keyMaterial).to.deep.equal({ certificate: '/etc/pki/host.p12', password: { env: 'P12_PASS' } });
  });

  it('applies the caller overrides on top of every profile and validates them the same way', () => {
    const s = parse(
      base + yaml`
        profiles:
          a: { role_arn: "${ROLE}", session_duration: 2h }
          b: { role_arn: "${ROLE}" }
      `,
      { overrides: { profile: { session_duration: '30m', with_proxy: 'true', fips: false }, logLevel: 'debug', credentialsFile: '/tmp/creds' } },
    );
    expect(s.profiles.map((p) => [p.sessionDurationSeconds, p.withProxy])).to.deep.equal([
      [1800, true],
      [1800, true],
    ]);
    expect([s.logLevel, s.credentialsFile]).to.deep.equal(['debug', '/tmp/creds']);
    expect(s.profiles[0]!.origins.session_duration).to.deep.equal({ path: 'overrides.session_duration' });
  });

  it('keeps only the profiles the caller selects', () => {
    const s = parse(
      base + yaml`
        profiles:
          a: { role_arn: "${ROLE}" }
          b: { role_arn: "${ROLE}" }
          c: { role_arn: "${ROLE}" }
      `,
      { overrides: { onlyProfiles: ['c', 'a'] } },
    );
    expect(s.profiles.map((p) => p.name)).to.deep.equal(['a', 'c']);
  });

  it('takes the credentials file from the schedule, else AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials', () => {
    const profiles = yaml`
      profiles:
        a: { role_arn: "${ROLE}" }
    `;
    const env = { AWS_SHARED_CREDENTIALS_FILE: '~/creds/shared' };
    expect(parse(base + 'credentials_file: ~/x/credentials\n' + profiles, { env }).credentialsFile).to.equal(`${HOME}/x/credentials`);
    expect(parse(base + profiles, { env }).credentialsFile).to.equal(`${HOME}/creds/shared`);
    expect(parse(base + profiles).credentialsFile).to.equal(`${HOME}/.aws/credentials`);
  });

  it('reads credentials_file_owner (a name or a uid) and credentials_dir_shared, off by default', () => {
    const profiles = 'profiles:\n  a: { role_arn: "' + ROLE + '" }\n';
    const plain = parse(base + profiles);
    expect([plain.credentialsFileOwner, plain.credentialsDirShared], 'defaults').to.deep.equal([undefined, false]);
    expect(parse(base + 'credentials_file_owner: app\ncredentials_dir_shared: true\n' + profiles)).to.deep.include({ credentialsFileOwner: 'app', credentialsDirShared: true });
    expect(parse(base + 'credentials_file_owner: 1000\n' + profiles).credentialsFileOwner).to.equal(1000);
    expect(parse(base + 'credentials_file_owner: "1000"\n' + profiles).credentialsFileOwner).to.equal(1000);
    const bad = issuesOf(base + 'credentials_file_owner: "a b"\ncredentials_dir_shared: yes\n' + profiles);
    expect(bad.join('\n'), 'issues').to.include('credentials_file_owner').and.include('user name or a numeric uid').and.include('credentials_dir_shared');
  });

  it('reads rate_limit, log_level and http, with defaults for what is left out', () => {
    const s = parse(base + yaml`
      profiles:
        a: { role_arn: "${ROLE}" }
      rate_limit: { per_second: 2.5, concurrency: 2 }
      log_level: warn
      http: { listen: "[::1]:9464" }
    `);
    expect(s.rateLimit).to.deep.equal({ perSecond: 2.5, burst: 8, concurrency: 2 });
    expect(s.logLevel).to.equal('warn');
    expect(s.http).to.deep.equal({ listen: '[::1]:9464', host: '::1', port: 9464 });
    expect(parse(base + 'profiles: { a: { role_arn: "' + ROLE + '" } }\n').http).to.equal(undefined);
  });

  it('ignores x- keys at the top level so anchors can be shared through aliases', () => {
    const s = parse(yaml`
      x-anchor: &ta ${TA}
      defaults:
        certificate: /etc/pki/host.pem
        private_key: /etc/pki/host.key
        profile_arn: ${PR}
      profiles:
        a: { role_arn: "${ROLE}", trust_anchor_arn: *ta }
    `);
    expect(s.profiles[0]!.trustAnchorArn).to.equal(TA);
  });

  it('accepts an empty profile entry when defaults supply everything', () => {
    const s = parse(base + yaml`
        role_arn: ${ROLE}
      profiles:
        default:
    `);
    expect(s.profiles.map((p) => p.name)).to.deep.equal(['default']);
  });

  it('records the source path and the SHA-256 of the text', () => {
    const text = base + `profiles: { a: { role_arn: "${ROLE}" } }\n`;
    const s = parseSchedule(text, '/etc/agent/schedule.yaml', deps());
    expect(s.source).to.deep.equal({ path: '/etc/agent/schedule.yaml', hash: createHash('sha256').update(text).digest('hex') });
  });

  it('resolves relative paths against the schedule directory and expands ~', () => {
    const p = only(yaml`
      defaults:
        certificate: certs/host.pem
        private_key: ~/keys/host.key
        intermediates: ../chain.pem
        trust_anchor_arn: ${TA}
        profile_arn: ${PR}
      profiles:
        a: { role_arn: "${ROLE}" }
    `);
    expect([p.certificate, p.privateKey, p.intermediates]).to.deep.equal(['/etc/agent/certs/host.pem', `${HOME}/keys/host.key`, '/etc/chain.pem']);
  });

  it('takes endpoint, fips, ca_bundle, no_verify_ssl and region as given', () => {
    const p = only(base + yaml`
      profiles:
        a:
          role_arn: ${ROLE}
          region: eu-west-1
          endpoint: http://127.0.0.1:8443/
          ca_bundle: /etc/ssl/extra.pem
          no_verify_ssl: true
    `);
    expect([p.region, p.endpoint, p.caBundle, p.noVerifySsl, p.fips]).to.deep.equal(['eu-west-1', 'http://127.0.0.1:8443', '/etc/ssl/extra.pem', true, false]);
  });

  it('takes connect_timeout as a duration, from defaults or the profile, and leaves it out when unset (the transport\'s 10 s)', () => {
    const s = parse(base + yaml`
        connect_timeout: 5
      profiles:
        a: { role_arn: "${ROLE}" }
        b: { role_arn: "${ROLE}", connect_timeout: 1m }
        c: { role_arn: "${ROLE}", connect_timeout: null }
    `);
    expect(s.profiles.map((p) => [p.name, p.connectTimeoutSeconds])).to.deep.equal([
      ['a', 5],
      ['b', 60],
      ['c', undefined],
    ]);
  });
});
