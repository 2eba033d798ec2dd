import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, ROOT } from '../cli/built-cli.js';
import { makeTempDir } from '../helpers/tmp.js';
import { makeWorld, PROFILE_ARN, roleArn, TRUST_ANCHOR_ARN, type World } from '../helpers/world.js';

const TYPES = join(ROOT, 'dist', 'src', 'index.d.ts');

/** dist/ with the library's declarations (`npm run build` makes both; a lone mocha run may not have). */
function ensureLibraryBuilt(): void {
  ensureBuilt();
  const source = statSync(join(ROOT, 'src', 'library', 'from-roles-anywhere.ts')).mtimeMs;
  if (existsSync(TYPES) && statSync(TYPES).mtimeMs >= source) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.lib.json')], { cwd: ROOT, stdio: 'pipe' });
}

/** Runs a child without blocking this process: the emulator it talks to lives here. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

const APP = (ext: 'mjs' | 'ts') => `import { fromRolesAnywhere, AgentError${ext === 'ts' ? ', type FromRolesAnywhereOptions, type RolesAnywhereProvider' : ''} } from 'rolesanywhere-agent';
const options${ext === 'ts' ? ': FromRolesAnywhereOptions' : ''} = JSON.parse(process.env.LIB_OPTIONS${ext === 'ts' ? '!' : ''});
const provider${ext === 'ts' ? ': RolesAnywhereProvider' : ''} = fromRolesAnywhere(options);
const [a, b] = await Promise.all([provider(), provider()]);
const refused = fromRolesAnywhere({ ...options, roleArn: 'arn:aws:iam::111122223333:role/not-allowed' });
let error${ext === 'ts' ? ': unknown' : ''};
try { await refused(); } catch (e) { error = e; }
console.log(JSON.stringify({
  accessKeyId: a.accessKeyId,
  same: a.accessKeyId === b.accessKeyId,
  expirationIsDate: a.expiration instanceof Date,
  typed: error instanceof AgentError,
  code: error instanceof AgentError ? error.code : undefined,
  tryNextLink: (error${ext === 'ts' ? ' as { tryNextLink?: boolean }' : ''}).tryNextLink,
}));
// No close(): a program that simply ends must be able to exit.
`;

describe('a consumer project that depends on the package by path (ESM and TypeScript NodeNext)', function () {
  this.timeout(120_000);
  let w: World;
  let dir: string;
  let cleanup: () => void;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    ensureLibraryBuilt();
    w = await makeWorld();
    ({ dir, cleanup } = makeTempDir('ra-consumer-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { 'rolesanywhere-agent': `file:${ROOT}` } }));
    // What `npm install` makes of a file: dependency: a link to the package directory.
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'rolesanywhere-agent'));
    env = {
      PATH: process.env.PATH,
      LIB_OPTIONS: JSON.stringify({
        certificate: w.ecFiles.certificate,
        privateKey: w.ecFiles.privateKey,
        trustAnchorArn: TRUST_ANCHOR_ARN,
        profileArn: PROFILE_ARN,
        roleArn: roleArn('app'),
        endpoint: w.emulator.httpsUrl,
        caBundle: w.caBundle,
      }),
    };
  });
  after(async () => {
    await w.cleanup();
    cleanup();
  });

  function expectWorked(r: { code: number; stdout: string; stderr: string }): void {
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out).to.deep.equal({
      accessKeyId: out.accessKeyId,
      same: true,
      expirationIsDate: true,
      typed: true,
      code: 'ACCESS_DENIED',
      tryNextLink: false,
    });
    expect(w.emulator.issued.map((i) => i.accessKeyId)).to.include(out.accessKeyId);
  }

  it('plain ESM imports the package by name, gets credentials, a typed error, and exits by itself', async () => {
    writeFileSync(join(dir, 'app.mjs'), APP('mjs'));
    expectWorked(await run(process.execPath, ['app.mjs'], env, dir));
  });

  it('TypeScript (strict, module/moduleResolution NodeNext) type-checks against the shipped .d.ts and runs', async () => {
    writeFileSync(join(dir, 'app.ts'), APP('ts'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', skipLibCheck: false, types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] },
        files: ['app.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const built = await run(process.execPath, [tsc, '-p', dir], env, dir);
    expect(built.code, built.stdout + built.stderr).to.equal(0);
    expectWorked(await run(process.execPath, [join(dir, 'out', 'app.js')], env, dir));
  });

  it('the types are real: a wrong option type fails the consumer\'s type-check', async () => {
    writeFileSync(join(dir, 'bad.ts'), `import { fromRolesAnywhere } from 'rolesanywhere-agent';\nfromRolesAnywhere({ certificate: 42, trustAnchorArn: 'a', profileArn: 'p', roleArn: 'r' });\n`);
    writeFileSync(join(dir, 'tsconfig.bad.json'), JSON.stringify({ extends: './tsconfig.json', files: ['bad.ts'], compilerOptions: { noEmit: true } }));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.bad.json')], env, dir);
    expect(r.code, 'tsc exit code').to.not.equal(0);
    expect(r.stdout).to.match(/bad\.ts\(2,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
  });

  it('importing the library and making a call loads no CLI, logger, watcher, metrics or agent code', async () => {
    const log = join(dir, 'loaded.txt');
    writeFileSync(join(dir, 'hooks.mjs'), `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) { appendFileSync(process.env.LOADED_LOG, url + '\\n'); return next(url, context); }\n`);
    writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`);
    const r = await run(process.execPath, ['--import', './register.mjs', 'app.mjs'], { ...env, LOADED_LOG: log }, dir);
    expect(r.code, r.stderr).to.equal(0);
    const loaded = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    expect(loaded.some((u) => u.endsWith('/dist/src/library/session.js')), 'the session module loaded for the call').to.equal(true);
    const forbidden = loaded.filter((u) =>
      /\/dist\/src\/(cli|observability|watch)\/|\/dist\/src\/log\/(logger|redact)\.js$|\/dist\/src\/main\.js$|\/dist\/src\/agent\/(agent|job|signer-source|state-file)\.js$|\/node_modules\/(winston|logform|chokidar|prom-client)\//.test(u),
    );
    expect(forbidden, 'modules the library must not load').to.deep.equal([]);
  });
});
