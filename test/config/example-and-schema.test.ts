import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KEY_SETS, LOG_LEVELS, parseSchedule } from '../../src/config/index.js';
import { PROFILE_NAME_PATTERN } from '../../src/credentials-file/profile-name.js';
import { RESERVED_PROFILE_NAMES } from '../../src/credentials-file/profile-name.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const examplePath = `${root}config/agent.example.yaml`;
const schema = JSON.parse(readFileSync(`${root}config/schedule.schema.json`, 'utf8')) as Record<string, unknown>;

type Json = Record<string, unknown>;

/** Every object schema that lists `properties`, by JSON pointer. */
function objectsWithProperties(node: unknown, pointer = '#', out = new Map<string, Json>()): Map<string, Json> {
  if (Array.isArray(node)) node.forEach((n, i) => objectsWithProperties(n, `${pointer}/${i}`, out));
  else if (node !== null && typeof node === 'object') {
    const obj = node as Json;
    if (obj.properties && typeof obj.properties === 'object') out.set(pointer, obj);
    for (const [k, v] of Object.entries(obj)) objectsWithProperties(v, `${pointer}/${k}`, out);
  }
  return out;
}

/** Which validator key set each schema object stands for. A new object in either place fails here until mapped. */
const MAP: Record<string, keyof typeof KEY_SETS> = {
  '#': 'top',
  '#/$defs/profile': 'profile',
  '#/$defs/refresh': 'refresh',
  '#/properties/rate_limit': 'rate_limit',
  '#/properties/http': 'http',
  '#/properties/serve': 'serve',
  '#/properties/serve/properties/ecs': 'serve_ecs',
  '#/properties/serve/properties/imds': 'serve_imds',
  '#/$defs/serveTls': 'tls',
};

describe('config/agent.example.yaml', () => {
  it('validates through parseSchedule and yields its two profiles', () => {
    const text = readFileSync(examplePath, 'utf8');
    const s = parseSchedule(text, examplePath, { env: {}, home: '/home/agent', baseDir: `${root}config` });
    expect(s.profiles.map((p) => p.name)).to.deep.equal(['default', 'backup']);
    expect(s.profiles[1]!.roleSessionName).to.equal('backup-agent');
    expect(s.profiles[1]!.refresh).to.deep.equal({ kind: 'cron', expression: '0 */4 * * *', timeZone: 'UTC', jitterSeconds: 300 });
    expect(s.credentialsFile).to.equal('/home/agent/.aws/credentials');
  });

  it('mentions every key the validator knows, so the documentation cannot fall behind', () => {
    const text = readFileSync(examplePath, 'utf8');
    const all = new Set(Object.values(KEY_SETS).flat());
    const missing = [...all].filter((k) => !new RegExp(`(^|[\\s{,#])${k}:`, 'm').test(text));
    expect(missing, 'keys absent from the example').to.deep.equal([]);
  });
});

describe('config/schedule.schema.json', () => {
  const objects = objectsWithProperties(schema);

  it('has exactly one object schema for each key set of the validator', () => {
    expect([...objects.keys()].sort()).to.deep.equal(Object.keys(MAP).sort());
    expect([...new Set(Object.values(MAP))].sort()).to.deep.equal(Object.keys(KEY_SETS).sort());
  });

  for (const [pointer, set] of Object.entries(MAP)) {
    it(`lists the same keys at ${pointer} as the validator's "${set}" set, and no others`, () => {
      const obj = objects.get(pointer);
      expect(obj, `${pointer} exists`).to.not.equal(undefined);
      expect(Object.keys(obj!.properties as Json).sort()).to.deep.equal([...KEY_SETS[set]].sort());
      expect(obj!.additionalProperties, `${pointer} refuses unknown keys as the validator does`).to.equal(false);
    });
  }

  it('uses the same profile-name pattern and log levels as the validator', () => {
    const props = schema.properties as Json;
    expect(((props.profiles as Json).propertyNames as Json).pattern).to.equal(PROFILE_NAME_PATTERN.source);
    expect(((props.profiles as Json).propertyNames as Json).not, 'DEFAULT and __proto__ refused as the loader refuses them').to.deep.equal({ enum: [...RESERVED_PROFILE_NAMES] });
    expect((props.log_level as Json).enum).to.deep.equal([...LOG_LEVELS]);
  });
});
