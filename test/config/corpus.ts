/** Bad schedules and the exact issues each must produce (path, line:column, message, hint). */
import { PR, PR_US, ROLE, TA, TA_US, yaml } from './fixtures.js';

export interface BadCase {
  name: string;
  text: string;
  env?: Record<string, string>;
  overrides?: Record<string, unknown>;
  expected: string[];
}

/** Five lines of valid defaults, so that profiles start at line 6. */
const keys = yaml`
  defaults:
    certificate: /etc/pki/host.pem
    private_key: /etc/pki/host.key
    trust_anchor_arn: ${TA}
    profile_arn: ${PR}
`;
const profile = (body: string) => keys + 'profiles:\n  app:\n    role_arn: ' + ROLE + '\n' + body.replace(/^/gm, '    ').replace(/ +$/, '');

export const corpus: BadCase[] = [
  {
    name: 'an invalid role ARN is reported at its value with the expected shape',
    text: keys + yaml`
      profiles:
        default:
          role_arn: ${ROLE}
        backup:
          role_arn: arn:aws:iam::1:role
    `,
    expected: [
      "profiles.backup.role_arn (line 10:15): \"arn:aws:iam::1:role\" is not a valid role_arn: not an ARN (expected arn:aws:iam::111122223333:role/<name>)",
    ],
  },
  {
    name: 'unknown keys suggest the closest known key, another spelling, or the place they belong',
    text: yaml`
      defaults:
        certificate: /etc/pki/host.pem
        private_key: /etc/pki/host.key
        trust_anchor_arn: ${TA}
        profile_arn: ${PR}
        regoin: eu-west-1
        sessionDuration: 1h
        rate_limit: { per_second: 1 }
      profile:
        app: {}
      profiles:
        app:
          role_arn: ${ROLE}
          colour: red
          private_key_password: hunter2
    `,
    expected: [
      "defaults.regoin (line 6:3): unknown key \"regoin\" — did you mean \"region\"?",
      "defaults.sessionDuration (line 7:3): unknown key \"sessionDuration\" — did you mean \"session_duration\"?",
      "defaults.rate_limit (line 8:3): unknown key \"rate_limit\" — \"rate_limit\" belongs at the top level",
      "profile (line 9:1): unknown key \"profile\" — did you mean \"profiles\"?",
      "profiles.app.colour (line 14:5): unknown key \"colour\" — valid keys in a profile: certificate, private_key, private_key_password_file, private_key_password_env, intermediates, pkcs11_lib, pkcs11_pin_file, pkcs11_pin_env, reuse_pin, trust_anchor_arn, profile_arn, role_arn, role_session_name, region, endpoint, fips, ca_bundle, no_verify_ssl, with_proxy, connect_timeout, session_duration, refresh, watch_interval",
      "profiles.app.private_key_password (line 15:5): unknown key \"private_key_password\" — the schedule holds no secrets: use private_key_password_file or private_key_password_env",
    ],
  },
  {
    name: 'a profile without the required keys names each one and where to put it',
    text: yaml`
      profiles:
        app:
          region: eu-west-1
    `,
    expected: [
      "profiles.app.certificate (line 2:3): certificate is required and neither this profile nor defaults: sets it — add certificate: /etc/pki/agent/host.pem",
      "profiles.app.trust_anchor_arn (line 2:3): trust_anchor_arn is required and neither this profile nor defaults: sets it — add trust_anchor_arn: arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/<uuid>",
      "profiles.app.profile_arn (line 2:3): profile_arn is required and neither this profile nor defaults: sets it — add profile_arn: arn:aws:rolesanywhere:eu-west-1:111122223333:profile/<uuid>",
      "profiles.app.role_arn (line 2:3): role_arn is required and neither this profile nor defaults: sets it — add role_arn: arn:aws:iam::111122223333:role/<name>",
    ],
  },
  {
    name: 'a required key unset with null is reported at the null',
    text: profile('profile_arn: null\n'),
    expected: [
      "profiles.app.profile_arn (line 9:18): profile_arn is required, but it is unset here with null — add profile_arn: arn:aws:rolesanywhere:eu-west-1:111122223333:profile/<uuid>",
    ],
  },
  {
    name: 'a certificate that is not PKCS#12 needs a private_key',
    text: yaml`
      profiles:
        app:
          certificate: /etc/pki/host.pem
          trust_anchor_arn: ${TA}
          profile_arn: ${PR}
          role_arn: ${ROLE}
    `,
    expected: [
      "profiles.app.private_key (line 3:18): private_key is required: the certificate /etc/pki/host.pem is neither a PKCS#12 bundle (.p12/.pfx) nor a pkcs11: URI — set private_key: to the key file, or point certificate: at a PKCS#12 bundle that holds the key",
    ],
  },
  {
    name: 'values of the wrong type say what was expected',
    text: profile(yaml`
      fips: yes
      with_proxy: 1
      certificate: 42
      role_session_name: x
      region: Europe
      session_duration: soon
      private_key_password_env: \${NOT_A_NAME:-1abc}
    `),
    expected: [
      "profiles.app.fips (line 9:11): expected true or false, got \"yes\" — YAML 1.2 reads yes/no/on/off as text: write true or false",
      "profiles.app.with_proxy (line 10:17): expected true or false, got the number 1",
      "profiles.app.certificate (line 11:18): expected text, got the number 42 — YAML read it as a number: quote it (\"42\")",
      "profiles.app.role_session_name (line 12:24): \"x\" is not a valid role_session_name — 2–64 characters of letters, digits and + = , . @ _ -",
      "profiles.app.region (line 13:13): \"Europe\" is not an AWS region name — e.g. eu-west-1; or leave region out to use the trust anchor's",
      "profiles.app.session_duration (line 14:23): \"soon\" is not a duration — write seconds (3600) or a duration such as 15m, 1h, 1h30m",
      "profiles.app.private_key_password_env (line 15:31): \"1abc\" is not an environment variable name — letters, digits and _, not starting with a digit; give the name, not ${NAME}",
    ],
  },
  {
    name: 'session durations outside 15m..12h are rejected',
    text: keys + yaml`
      profiles:
        short: { role_arn: "${ROLE}", session_duration: 5m }
        long: { role_arn: "${ROLE}", session_duration: 13h }
        fractional: { role_arn: "${ROLE}", session_duration: 1.5s }
    `,
    expected: [
      "profiles.short.session_duration (line 7:78): 5m is outside the 15m..12h CreateSession accepts — use 15m to 12h (the Roles Anywhere profile may cap it lower)",
      "profiles.long.session_duration (line 8:77): 13h is outside the 15m..12h CreateSession accepts — use 15m to 12h (the Roles Anywhere profile may cap it lower)",
      "profiles.fractional.session_duration (line 9:83): \"1.5s\" is not a duration — write seconds (3600) or a duration such as 15m, 1h, 1h30m",
    ],
  },
  {
    name: 'connect timeouts outside 1s..5m are rejected',
    text: keys + yaml`
      profiles:
        zero: { role_arn: "${ROLE}", connect_timeout: 0 }
        long: { role_arn: "${ROLE}", connect_timeout: 10m }
    `,
    expected: [
      "profiles.zero.connect_timeout (line 7:76): 0s is outside the 1s..5m range for a connect timeout — use 1s to 5m; the default is 10s",
      "profiles.long.connect_timeout (line 8:76): 10m is outside the 1s..5m range for a connect timeout — use 1s to 5m; the default is 10s",
    ],
  },
  {
    name: 'endpoints must be https URLs (http only on loopback) without credentials',
    text: keys + yaml`
      profiles:
        a: { role_arn: "${ROLE}", endpoint: "http://rolesanywhere.example.com" }
        b: { role_arn: "${ROLE}", endpoint: "not a url" }
        c: { role_arn: "${ROLE}", endpoint: "https://user:pw@example.com" }
    `,
    expected: [
      "profiles.a.endpoint (line 7:66): \"http://rolesanywhere.example.com\" must use https — plain http is accepted only on loopback (127.0.0.1, [::1], localhost), e.g. for the local emulator",
      "profiles.b.endpoint (line 8:66): \"not a url\" is not a URL — e.g. https://rolesanywhere.eu-west-1.amazonaws.com",
      "profiles.c.endpoint (line 9:66): \"https://***@example.com/\" must not contain credentials, a query or a fragment — give scheme, host, optional port and path only",
    ],
  },
  {
    name: 'bad refresh policies: cron syntax, a cron that never fires, a too-short margin, both kinds, neither, a misplaced time zone',
    text: keys + yaml`
      profiles:
        a: { role_arn: "${ROLE}", refresh: { cron: "61 * * * *" } }
        b: { role_arn: "${ROLE}", refresh: { cron: "0 0 31 2 *" } }
        c: { role_arn: "${ROLE}", refresh: { before_expiry: 10s } }
        d: { role_arn: "${ROLE}", refresh: { before_expiry: 15m, cron: "0 * * * *" } }
        e: { role_arn: "${ROLE}", refresh: { jitter: 1m } }
        f: { role_arn: "${ROLE}", refresh: { before_expiry: 15m, time_zone: UTC } }
        g: { role_arn: "${ROLE}", refresh: { cron: "0 * * * *", time_zone: Mars/Olympus } }
        h: { role_arn: "${ROLE}", refresh: 15m }
    `,
    expected: [
      "profiles.a.refresh.cron (line 7:73): \"61 * * * *\" is not a valid cron expression: Field value (61) is out of range — five fields (minute hour day-of-month month day-of-week), e.g. \"*/20 * * * *\"",
      "profiles.b.refresh.cron (line 8:73): \"0 0 31 2 *\" never fires — five fields (minute hour day-of-month month day-of-week), e.g. \"*/20 * * * *\"",
      "profiles.c.refresh.before_expiry (line 9:82): 10s is outside the 1m..12h range for a refresh margin — less than a minute before expiry leaves no time to retry a failed refresh",
      "profiles.d.refresh.cron (line 10:87): before_expiry and cron are exclusive — refresh a fixed time before expiry, or on a cron schedule, not both",
      "profiles.e.refresh (line 11:65): refresh needs before_expiry or cron — e.g. { before_expiry: 15m } or { cron: \"*/20 * * * *\" }",
      "profiles.f.refresh.time_zone (line 12:87): time_zone applies only to cron — remove it, or refresh on a cron schedule",
      "profiles.g.refresh.time_zone (line 13:97): \"Mars/Olympus\" is not a time zone — an IANA name such as UTC or Europe/Paris",
      "profiles.h.refresh (line 14:65): expected a map with before_expiry: or cron:, got \"15m\"",
    ],
  },
  {
    name: 'a refresh margin must leave a minute of use of the session',
    text: profile('refresh: { before_expiry: 59m }\n'),
    expected: [
      "profiles.app.refresh.before_expiry (line 9:31): a refresh 59m plus 5m54s of jitter before expiry leaves less than 1m of a 1h session — make before_expiry plus jitter at most 59m, or lengthen session_duration",
    ],
  },
  {
    name: 'a margin that conflicts with a session set in defaults is reported once, at defaults',
    text: keys + yaml`
        session_duration: 15m
        refresh: { before_expiry: 14m30s, jitter: 0 }
      profiles:
        a: { role_arn: "${ROLE}" }
        b: { role_arn: "${ROLE}" }
        c: { role_arn: "${ROLE}" }
    `,
    expected: [
      "defaults.refresh.before_expiry (line 7:29): a refresh 14m30s before expiry leaves less than 1m of a 15m session — make before_expiry plus jitter at most 14m, or lengthen session_duration",
    ],
  },
  {
    name: 'a profile that shortens the session below the inherited margin is reported at its session_duration',
    text: keys + yaml`
        refresh: { before_expiry: 20m }
      profiles:
        a: { role_arn: "${ROLE}", session_duration: 15m }
    `,
    expected: [
      "profiles.a.session_duration (line 8:74): a refresh 20m plus 2m of jitter before expiry leaves less than 1m of a 15m session — make before_expiry plus jitter at most 14m, or lengthen session_duration",
    ],
  },
  {
    name: 'the trust anchor and the profile must share a region, and an explicit region must match',
    text: keys + yaml`
      profiles:
        a: { role_arn: "${ROLE}", trust_anchor_arn: "${TA_US}" }
        b: { role_arn: "${ROLE}", region: us-east-1 }
        c: { role_arn: "arn:aws-cn:iam::111122223333:role/app" }
        d: { role_arn: "${ROLE}", trust_anchor_arn: "${TA_US}", profile_arn: "${PR_US}" }
    `,
    expected: [
      "profiles.a.trust_anchor_arn (line 7:74): the profile (aws/eu-west-1) and the trust anchor (aws/us-east-1) must be in the same partition and region — take the profile and the trust anchor from the same Roles Anywhere region",
      "profiles.b.region (line 8:64): region us-east-1 differs from the trust anchor's region eu-west-1 — CreateSession must go to the trust anchor's region: remove region: or correct it",
      "profiles.c.role_arn (line 9:18): the role's partition aws-cn differs from the trust anchor's aws",
    ],
  },
  {
    name: 'two entries for the same credentials-file section are caught, as are repeated keys',
    text: keys + yaml`
      profiles:
        app:
          role_arn: ${ROLE}
          role_arn: ${ROLE}
        app:
          role_arn: ${ROLE}
      log_level: info
      log_level: debug
    `,
    expected: [
      "profiles.app.role_arn (line 9:5): \"role_arn\" is set twice (first at line 8:5) — keep one of them",
      "profiles.app (line 10:3): the profile \"app\" is defined twice (first at line 7:3): both would write the section [app] of the credentials file — rename one, or merge the two entries",
      "log_level (line 13:1): \"log_level\" is set twice (first at line 12:1) — keep one of them",
    ],
  },
  {
    name: 'profile names the credentials file cannot hold are rejected',
    text: keys + yaml`
      profiles:
        "my profile": { role_arn: "${ROLE}" }
        ${'p'.repeat(65)}: { role_arn: "${ROLE}" }
        "[x]": { role_arn: "${ROLE}" }
        DEFAULT: { role_arn: "${ROLE}" }
    `,
    expected: [
      "profiles[\"my profile\"] (line 7:3): \"my profile\" cannot be a section name in the credentials file — 1 to 64 characters of letters, digits and _ . @ + -",
      "profiles.ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp (line 8:3): \"ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp\" cannot be a section name in the credentials file — 1 to 64 characters of letters, digits and _ . @ + -",
      "profiles[\"[x]\"] (line 9:3): \"[x]\" cannot be a section name in the credentials file — 1 to 64 characters of letters, digits and _ . @ + -",
      'profiles.DEFAULT (line 10:3): "DEFAULT" cannot be a profile: botocore and the AWS CLI read [DEFAULT] as defaults for every other profile, never as a profile of its own — choose another name, such as "default" (lower case), which is the profile the AWS tools use when none is named',
    ],
  },
  {
    name: 'password and PIN sources are exclusive within one layer',
    text: profile(yaml`
      private_key_password_file: /etc/pki/pass
      private_key_password_env: KEY_PASS
    `),
    expected: [
      "profiles.app.private_key_password_env (line 10:31): private_key_password_file and private_key_password_env are exclusive — keep one: the key password comes from a file or from an environment variable",
    ],
  },
  {
    name: 'PKCS#11 keys need a pkcs11: URI, and a key on a token takes a PIN rather than a password',
    text: keys + yaml`
        pkcs11_lib: /usr/lib/softhsm/libsofthsm2.so
      profiles:
        files: { role_arn: "${ROLE}" }
        token: { role_arn: "${ROLE}", private_key: "pkcs11:object=k", pkcs11_lib: null, private_key_password_env: P, pkcs11_pin_env: PIN }
        own: { role_arn: "${ROLE}", certificate: /etc/pki/other.pem, reuse_pin: true }
    `,
    expected: [
      "defaults.pkcs11_lib (line 6:15): pkcs11_lib applies only to pkcs11: URIs, and neither certificate nor private_key is one — remove pkcs11_lib, or write pkcs11_lib: null in a profile that uses key files",
      "profiles.token.private_key_password_env (line 9:136): private_key_password_env applies to encrypted PEM or PKCS#12 keys, not to a key on a PKCS#11 token — give the token PIN with pkcs11_pin_file or pkcs11_pin_env",
      "profiles.own.certificate (line 10:71): pkcs11_lib applies only to pkcs11: URIs, and neither certificate nor private_key is one — remove pkcs11_lib, or write pkcs11_lib: null in a profile that uses key files",
      "profiles.own.reuse_pin (line 10:102): reuse_pin applies only to pkcs11: URIs, and neither certificate nor private_key is one — remove reuse_pin, or write reuse_pin: null in a profile that uses key files",
    ],
  },
  {
    name: 'merge keys are refused with a pointer to defaults, and an alias without an anchor is reported once',
    text: keys + yaml`
      x-common: &common
        fips: false
      profiles:
        app:
          <<: *common
          role_arn: *missing
    `,
    expected: [
      "profiles.app[\"<<\"] (line 10:5): unknown key \"<<\" — YAML merge keys are not supported: put shared settings in defaults:",
      "profiles.app.role_arn (line 11:15): the alias *missing refers to no anchor — define the anchor (&name) before the alias, e.g. under an x- key",
    ],
  },
  {
    name: 'a malformed pkcs11: URI is rejected with its expected form',
    text: profile('private_key: "pkcs11:object"\n'),
    expected: [
      "profiles.app.private_key (line 9:18): \"pkcs11:object\" is not a valid pkcs11: URI — RFC 7512 form: pkcs11:token=NAME;object=LABEL (percent-encode ; ? and spaces in values)",
    ],
  },
  {
    name: 'a PIN inside a pkcs11: URI (pin-value, in the path or the query) is refused without being shown',
    text: profile('private_key: "pkcs11:token=agent;object=host-key;pin-value=918273"\ncertificate: "pkcs11:token=agent;object=host?pin-value=918273"\n'),
    expected: [
      'profiles.app.private_key (line 9:18): the pkcs11: URI holds the token PIN (pin-value=), and the schedule holds no secrets — remove pin-value from the URI and set pkcs11_pin_file: or pkcs11_pin_env:',
      'profiles.app.certificate (line 10:18): the pkcs11: URI holds the token PIN (pin-value=), and the schedule holds no secrets — remove pin-value from the URI and set pkcs11_pin_file: or pkcs11_pin_env:',
    ],
  },
  {
    name: 'a TPM key handle of the official helper is refused, pointing to tpm2-pkcs11',
    text: profile('private_key: handle:0x81000001\n'),
    expected: [
      'profiles.app.private_key (line 9:18): "handle:0x81000001" is a TPM key handle, which this agent does not support — put the key on a tpm2-pkcs11 token and name it with a pkcs11: URI; see docs/tpm.md',
    ],
  },
  {
    name: 'fips and an explicit endpoint contradict each other',
    text: profile('fips: true\nendpoint: https://rolesanywhere.eu-west-1.amazonaws.com\n'),
    expected: [
      "profiles.app.fips (line 9:11): fips: true has no effect when endpoint: is set — remove one: endpoint: names the exact host to call",
    ],
  },
  {
    name: 'an unset environment variable without a default is an error at its path',
    text: profile(yaml`
      role_session_name: \${SESSION_NAME}
      certificate: \${PKI_DIR}/\${CERT_NAME}.pem
      region: \${REGION:-eu-west-1}
      endpoint: \${1BAD}
      ca_bundle: "\${UNTERMINATED"
    `),
    env: { CERT_NAME: 'host' },
    expected: [
      "profiles.app.role_session_name (line 9:24): ${SESSION_NAME} is not set in the environment — set SESSION_NAME for the agent, or give a default: ${SESSION_NAME:-value}",
      "profiles.app.certificate (line 10:18): ${PKI_DIR} is not set in the environment — set PKI_DIR for the agent, or give a default: ${PKI_DIR:-value}",
      "profiles.app.endpoint (line 12:15): \"${1BAD}\" is not a variable reference (use ${NAME} or ${NAME:-default}; write $${ for a literal ${)",
      "profiles.app.ca_bundle (line 13:16): \"${UNTERMINATED\" has no closing }",
    ],
  },
  {
    name: '~user paths are refused and empty paths too',
    text: profile('intermediates: ~bob/chain.pem\nca_bundle: ""\n'),
    expected: [
      "profiles.app.intermediates (line 9:20): \"~bob/chain.pem\": ~user paths are not supported — write the absolute path, or ~/… for the agent user's home",
      "profiles.app.ca_bundle (line 10:16): the value is empty — give a value, or write null to unset an inherited one",
    ],
  },
  {
    name: 'rate_limit, log_level and http values are checked',
    text: profile('') + yaml`
      rate_limit: { per_second: 0, burst: 1.5, concurrency: 100 }
      log_level: loud
      http: { listen: "127.0.0.1:99999" }
    `,
    expected: [
      "rate_limit.per_second (line 9:27): 0 is out of range: expected more than 0 to 1000",
      "rate_limit.burst (line 9:37): expected a whole number (1 to 1000), got 1.5",
      "rate_limit.concurrency (line 9:55): 100 is out of range: expected 1 to 64",
      "log_level (line 10:12): expected one of error, warn, info, debug, got \"loud\"",
      "http.listen (line 11:17): \"127.0.0.1:99999\" is not host:port — e.g. \"127.0.0.1:9464\" or \"[::1]:9464\"",
    ],
  },
  {
    name: 'http without listen says how to turn it off',
    text: profile('') + 'http: {}\n',
    expected: [
      "http.listen (line 9:7): http needs listen: — e.g. listen: \"127.0.0.1:9464\", or remove http: to keep the listener off",
    ],
  },
  {
    name: 'a YAML syntax error is reported at its position',
    text: 'profiles:\n  app:\n    role_arn: [unclosed\n',
    expected: [
      "schedule (line 4:1): YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]",
    ],
  },
  {
    name: 'several YAML documents in one file are refused',
    text: profile('') + '---\nprofiles: {}\n',
    expected: [
      "schedule (line 9:1): the schedule must be a single YAML document — remove the --- separator and what follows, or merge the documents",
    ],
  },
  {
    name: 'an empty file says what it needs',
    text: '# nothing here\n',
    expected: [
      "schedule (line 1:1): the schedule is empty — it needs at least a profiles: map; see config/agent.example.yaml",
    ],
  },
  {
    name: 'a top level that is not a map is refused',
    text: '- a\n- b\n',
    expected: [
      "schedule (line 1:1): expected a map with profiles: and optional settings, got a list",
    ],
  },
  {
    name: 'a schedule without profiles is refused',
    text: keys,
    expected: [
      "profiles (line 1:1): at least one profile is required — add profiles: with a map of credentials-file section names, e.g. profiles: { default: { role_arn: … } }",
    ],
  },
  {
    name: 'an empty profiles map is refused',
    text: keys + 'profiles: {}\n',
    expected: [
      "profiles (line 6:11): at least one profile is required",
    ],
  },
  {
    name: 'profiles given as a list are refused',
    text: keys + 'profiles:\n  - app\n',
    expected: [
      "profiles (line 7:3): expected a map of profile names, got a list — each key is the section name written in the credentials file",
    ],
  },
  {
    name: 'a profile that is a scalar is refused',
    text: keys + 'profiles:\n  app: arn:aws:iam::111122223333:role/app\n',
    expected: [
      "profiles.app (line 7:8): expected a map of profile settings, got \"arn:aws:iam::111122223333:role/app\"",
    ],
  },
  {
    name: 'overrides from the command line are validated with their own paths',
    text: profile(''),
    overrides: { profile: { session_duration: '1m', colour: 'red' }, logLevel: 'loud', onlyProfiles: ['app', 'ghost'] },
    expected: [
      "overrides.session_duration: 1m is outside the 15m..12h CreateSession accepts — use 15m to 12h (the Roles Anywhere profile may cap it lower)",
      "overrides.colour: unknown key \"colour\" — valid keys in a profile: certificate, private_key, private_key_password_file, private_key_password_env, intermediates, pkcs11_lib, pkcs11_pin_file, pkcs11_pin_env, reuse_pin, trust_anchor_arn, profile_arn, role_arn, role_session_name, region, endpoint, fips, ca_bundle, no_verify_ssl, with_proxy, connect_timeout, session_duration, refresh, watch_interval",
      "overrides.log_level: expected one of error, warn, info, debug, got \"loud\"",
      "overrides.only_profiles: no profile named \"ghost\" in the schedule — profiles: app",
    ],
  },
];
