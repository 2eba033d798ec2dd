import { expect } from 'chai';
import { issuesOf, parse, PR, ROLE, TA, yaml } from './fixtures.js';

const base = yaml`
  defaults:
    certificate: /etc/pki/host.pem
    private_key: /etc/pki/host.key
    trust_anchor_arn: ${TA}
    profile_arn: ${PR}
  profiles:
    app:
      role_arn: ${ROLE}
    backup:
      role_arn: arn:aws:iam::444455556666:role/backup
`;

describe('parseSchedule: serve (the credential endpoints)', () => {
  it('reads both endpoints: TCP on loopback, a unix: socket, token_dir and the IMDS profile', () => {
    const s = parse(base + yaml`
      serve:
        ecs: { listen: "127.0.0.1:9912", token_dir: /run/agent/tokens }
        imds: { listen: "unix:/run/agent/imds.sock", profile: app }
    `);
    expect(s.serve).to.deep.equal({
      ecs: { listen: '127.0.0.1:9912', target: { host: '127.0.0.1', port: 9912 }, tokenDir: '/run/agent/tokens' },
      imds: { listen: 'unix:/run/agent/imds.sock', target: { socket: '/run/agent/imds.sock' }, profile: 'app', profilePos: { line: 13, column: 57 } },
    });
  });

  it('is off when absent or null', () => {
    expect(parse(base).serve, 'absent').to.equal(undefined);
    expect(parse(base + 'serve:\n').serve, 'null').to.equal(undefined);
  });

  it('accepts a non-loopback listener only with tls:, and [::1] without', () => {
    const s = parse(base + yaml`
      serve:
        ecs:
          listen: "0.0.0.0:9912"
          token_dir: /run/agent/tokens
          tls: { certificate: /etc/pki/serve.pem, private_key: /etc/pki/serve.key }
        imds: { listen: "[::1]:9911", profile: backup }
    `);
    expect(s.serve?.ecs?.tls).to.deep.equal({ certificate: '/etc/pki/serve.pem', privateKey: '/etc/pki/serve.key' });
    expect(s.serve?.imds?.listen).to.equal('[::1]:9911');
  });

  it('reports every problem with its path, line:column and a hint', () => {
    const issues = issuesOf(base + yaml`
      serve:
        ecs:
          listen: "10.0.0.5:9912"
        imds:
          listen: /run/agent/imds.sock
          profile: nosuch
          tls: { certificate: /etc/pki/x.pem }
        ec2: {}
    `);
    expect(issues).to.deep.equal([
      'serve.ecs.token_dir (line 13:5): serve.ecs needs token_dir: — the directory where the agent writes <profile>.token for each profile, e.g. /run/rolesanywhere-agent/tokens',
      'serve.ecs.listen (line 13:13): 10.0.0.5:9912 is not on loopback: credentials would cross the network in clear text — listen on 127.0.0.1 (e.g. "127.0.0.1:9912") or a unix: socket, or add tls: { certificate: …, private_key: … } to this listener',
      'serve.imds.listen (line 15:13): "/run/agent/imds.sock" is not host:port or unix:/path — write a socket as unix:/run/agent/imds.sock',
      'serve.imds.tls.private_key (line 17:10): tls needs private_key: — the PEM certificate and private key the listener presents',
      'serve.ec2 (line 18:3): unknown key "ec2" — did you mean "ecs"?',
    ]);
  });

  it('refuses an IMDS profile that is not in the schedule, and two endpoints on one address', () => {
    expect(issuesOf(base + yaml`
      serve:
        imds: { listen: "127.0.0.1:9911", profile: nosuch }
    `)).to.deep.equal(['serve.imds.profile (line 12:46): no profile named "nosuch" in the schedule — serve one of: app, backup']);
    expect(issuesOf(base + yaml`
      serve:
        ecs: { listen: "127.0.0.1:9911", token_dir: /run/t }
        imds: { listen: "127.0.0.1:9911", profile: app }
    `)).to.deep.equal(['serve.imds.listen: serve.ecs and serve.imds both listen on 127.0.0.1:9911 — give each endpoint its own address']);
  });

  it('needs listen: in each endpoint', () => {
    expect(issuesOf(base + yaml`
      serve:
        imds: { profile: app }
    `)).to.deep.equal(['serve.imds.listen (line 12:9): serve.imds needs listen: — e.g. listen: "127.0.0.1:9911" or "unix:/run/rolesanywhere-agent/imds.sock"']);
  });
});
