/** The schedule keys of observability: http.listen (TCP, port 0, unix socket) and certificate_expiry_warnings. */
import { expect } from 'chai';
import { DEFAULT_CERTIFICATE_EXPIRY_WARNINGS } from '../../src/config/schedule.js';
import { issuesOf, parse, ROLE, TA, PR, yaml } from '../config/fixtures.js';

const base = yaml`
  defaults:
    certificate: /etc/pki/host.pem
    private_key: /etc/pki/host.key
    trust_anchor_arn: ${TA}
    profile_arn: ${PR}
  profiles:
    a: { role_arn: "${ROLE}" }
`;

describe('observability: schedule keys', () => {
  it('reads http.listen as host:port (port 0 included) or as a unix socket path resolved like other paths', () => {
    expect(parse(base + 'http: { listen: "127.0.0.1:9464" }\n').http).to.deep.equal({ listen: '127.0.0.1:9464', host: '127.0.0.1', port: 9464 });
    expect(parse(base + 'http: { listen: "127.0.0.1:0" }\n').http).to.deep.equal({ listen: '127.0.0.1:0', host: '127.0.0.1', port: 0 });
    expect(parse(base + 'http: { listen: /run/agent/http.sock }\n').http).to.deep.equal({ listen: '/run/agent/http.sock', socket: '/run/agent/http.sock' });
    expect(parse(base + 'http: { listen: ~/run/http.sock }\n').http).to.deep.equal({ listen: '/home/agent/run/http.sock', socket: '/home/agent/run/http.sock' });
    expect(parse(base + 'http: { listen: ./http.sock }\n').http, 'relative to the schedule').to.deep.equal({ listen: '/etc/agent/http.sock', socket: '/etc/agent/http.sock' });
  });

  it('refuses a socket path too long for sun_path, and a name that is neither', () => {
    const long = `/run/${'x'.repeat(120)}.sock`;
    expect(issuesOf(base + `http: { listen: ${long} }\n`)).to.deep.equal([
      `http.listen (line 8:17): the socket path ${long} is longer than 103 bytes — unix socket paths are limited in length: choose a shorter one, e.g. under /run`,
    ]);
    expect(issuesOf(base + 'http: { listen: http.sock }\n')).to.deep.equal(['http.listen (line 8:17): "http.sock" is not host:port — e.g. "127.0.0.1:9464" or "[::1]:9464"']);
  });

  it('reads certificate_expiry_warnings in days or durations, largest first, with 30d, 7d, 1d by default and [] for none', () => {
    expect(parse(base).certificateExpiryWarnings).to.deep.equal([30 * 86_400, 7 * 86_400, 86_400]).and.to.deep.equal(DEFAULT_CERTIFICATE_EXPIRY_WARNINGS);
    expect(parse(base + 'certificate_expiry_warnings: [1d, 14d, 12h, 3600]\n').certificateExpiryWarnings).to.deep.equal([14 * 86_400, 86_400, 43_200, 3600]);
    expect(parse(base + 'certificate_expiry_warnings: []\n').certificateExpiryWarnings).to.deep.equal([]);
    expect(parse(base + 'certificate_expiry_warnings:\n').certificateExpiryWarnings, 'null: the default').to.deep.equal(DEFAULT_CERTIFICATE_EXPIRY_WARNINGS);
  });

  it('reports every bad certificate_expiry_warnings entry with its index', () => {
    expect(issuesOf(base + 'certificate_expiry_warnings: [30d, soon, 10s, 4000d]\n')).to.deep.equal([
      'certificate_expiry_warnings[1] (line 8:36): "soon" is not a duration — write days (30d), or a duration such as 12h',
      'certificate_expiry_warnings[2] (line 8:42): 10s is outside the 1m..3650d range for a certificate expiry warning',
      'certificate_expiry_warnings[3] (line 8:47): 4000d is outside the 1m..3650d range for a certificate expiry warning',
    ]);
    expect(issuesOf(base + 'certificate_expiry_warnings: 30d\n')).to.deep.equal([
      'certificate_expiry_warnings (line 8:30): expected a list of durations, got "30d" — e.g. [30d, 7d, 1d], or [] for no warnings',
    ]);
  });
});
