import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readProfiles } from '../../src/credentials-file/parse.js';
import { CredentialsWriter, GATHER_FACTOR, type Timers } from '../../src/credentials-file/writer.js';
import { ManualClock } from '../../src/time/clock.js';
import { makeTempDir } from '../helpers/tmp.js';
import { errno, faultyFs } from './faulty-fs.js';
import { catchAsync, creds, expectAgentError } from './helpers.js';

/** Timers that fire only when the test says so. */
class ManualTimers implements Timers {
  private next = 1;
  readonly pending = new Map<number, { fn: () => void; ms: number }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { fn, ms });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  fireAll(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const t of due) t.fn();
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const settled = async <T>(p: Promise<T>): Promise<'resolved' | 'rejected' | 'pending'> => {
  const marker = Symbol('pending');
  const r = await Promise.race([p.then(() => 'resolved' as const, () => 'rejected' as const), new Promise((res) => setImmediate(() => res(marker)))]);
  return r === marker ? 'pending' : (r as 'resolved' | 'rejected');
};

function akid(file: string, profile: string): string | undefined {
  return readProfiles(readFileSync(file, 'utf8')).get(profile)?.get('aws_access_key_id');
}

describe('CredentialsWriter', () => {
  let dir: string;
  let cleanup: () => void;
  let file: string;
  let timers: ManualTimers;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir('ra-cf-writer-'));
    file = join(dir, 'credentials');
    timers = new ManualTimers();
  });
  afterEach(() => cleanup());

  it('removes the agent keys of a profile in the same replace as the writes gathered with it, leaving its other keys', async () => {
    writeFileSync(file, '[gone]\nregion = x\n');
    const w = new CredentialsWriter(file, { timers, batchWindowMs: 50 });
    await Promise.all([w.write('gone', creds('gone', 1)), w.write('keep', creds('keep', 1)), (timers.fireAll(), Promise.resolve())]);
    const removal = w.remove('gone');
    const other = w.write('keep', creds('keep', 2));
    timers.fireAll();
    await Promise.all([removal, other]);
    expect(w.replaceCount, 'replaces').to.equal(2);
    const after = readProfiles(readFileSync(file, 'utf8'));
    expect(Object.fromEntries(after.get('gone') ?? []), 'what is left of [gone]').to.deep.equal({ region: 'x' });
    expect(akid(file, 'keep'), 'the other profile').to.equal(creds('keep', 2).accessKeyId);
  });

  it('puts writes that arrive within the batch window into one replace and resolves each once it is on disk', async () => {
    const w = new CredentialsWriter(file, { timers, batchWindowMs: 50 });
    const a = w.write('a', creds('a', 1));
    const b = w.write('b', creds('b', 1));
    expect([...timers.pending.values()].map((t) => t.ms), 'one window timer').to.deep.equal([50]);
    expect(await settled(a), 'nothing written before the window ends').to.equal('pending');
    timers.fireAll();
    await a.then(() => expect(akid(file, 'a'), 'a on disk when its write resolves').to.equal(creds('a', 1).accessKeyId));
    await b;
    expect(akid(file, 'b')).to.equal(creds('b', 1).accessKeyId);
    expect(w.replaceCount).to.equal(1);
  });

  it('writes only the latest value of a profile, and resolves every write of it', async () => {
    const w = new CredentialsWriter(file, { timers });
    const first = w.write('a', creds('a', 1));
    const second = w.write('a', creds('a', 2));
    timers.fireAll();
    await Promise.all([first, second]);
    expect(akid(file, 'a')).to.equal(creds('a', 2).accessKeyId);
    expect(w.replaceCount).to.equal(1);
  });

  it('gathers the writes that arrive while a replace is in flight into one next replace', async () => {
    const gate = deferred();
    const fs = faultyFs({ 'temp-write': () => gate.promise }, { nth: { 'temp-write': 1 } });
    const w = new CredentialsWriter(file, { timers, fs });
    const first = w.write('a', creds('a', 1));
    timers.fireAll();
    while (!fs.steps.includes('temp-write')) await new Promise((r) => setImmediate(r));
    const later = [w.write('b', creds('b', 1)), w.write('c', creds('c', 1)), w.write('a', creds('a', 2))];
    expect(timers.pending.size, 'no timer while in flight').to.equal(0);
    gate.resolve();
    await first;
    // The next batch waits one gathering window (at least as long as the last replace took).
    while (timers.pending.size === 0) await new Promise((r) => setImmediate(r));
    expect(w.replaceCount, 'not yet replaced again').to.equal(1);
    timers.fireAll();
    await Promise.all(later);
    expect(w.replaceCount).to.equal(2);
    expect(['a', 'b', 'c'].map((p) => akid(file, p))).to.deep.equal([creds('a', 2).accessKeyId, creds('b', 1).accessKeyId, creds('c', 1).accessKeyId]);
  });

  it('under a burst, waits eight times as long as the last replace took before the next one', async () => {
    const gate = deferred();
    const clock = new ManualClock(Date.UTC(2026, 10, 22));
    const fs = faultyFs({ 'temp-write': () => gate.promise }, { nth: { 'temp-write': 1 } });
    const w = new CredentialsWriter(file, { timers, fs, clock, batchWindowMs: 50 });
    const first = w.write('a', creds('a', 1));
    timers.fireAll();
    while (!fs.steps.includes('temp-write')) await new Promise((r) => setImmediate(r));
    const later = w.write('b', creds('b', 1));
    clock.advance(120); // the replace takes 120 ms
    gate.resolve();
    await first;
    while (timers.pending.size === 0) await new Promise((r) => setImmediate(r));
    expect([...timers.pending.values()].map((t) => t.ms)).to.deep.equal([GATHER_FACTOR * 120]);
    expect(GATHER_FACTOR).to.equal(8);
    timers.fireAll();
    await later;
    expect(w.replaceCount).to.equal(2);
  });

  it('rejects every write of a failed replace with its error, and the next batch still succeeds', async () => {
    writeFileSync(file, '[x]\nk = v\n', { mode: 0o600 });
    const fs = faultyFs({ 'temp-write': errno('ENOSPC') }, { nth: { 'temp-write': 1 } });
    const w = new CredentialsWriter(file, { timers, fs });
    const a = w.write('a', creds('a', 1));
    const b = w.write('b', creds('b', 1));
    timers.fireAll();
    expectAgentError(await catchAsync(a), 'CREDENTIALS_FILE', 'no space left', file);
    expectAgentError(await catchAsync(b), 'CREDENTIALS_FILE', 'no space left');
    expect(readFileSync(file, 'utf8')).to.equal('[x]\nk = v\n');
    const c = w.write('a', creds('a', 2));
    timers.fireAll();
    await c;
    expect(akid(file, 'a')).to.equal(creds('a', 2).accessKeyId);
  });

  it('refuses an invalid update alone, without failing the batch it would have joined', async () => {
    const w = new CredentialsWriter(file, { timers });
    const good = w.write('a', creds('a', 1));
    const bad = w.write('not valid', creds('x', 1));
    expectAgentError(await catchAsync(bad), 'ARGUMENT_INVALID');
    timers.fireAll();
    await good;
    expect(akid(file, 'a')).to.equal(creds('a', 1).accessKeyId);
  });

  it('flush writes what is pending at once and waits for it', async () => {
    const w = new CredentialsWriter(file, { timers });
    const a = w.write('a', creds('a', 1));
    await w.flush();
    expect(await settled(a)).to.equal('resolved');
    expect(timers.pending.size, 'window timer cancelled').to.equal(0);
    expect(akid(file, 'a')).to.equal(creds('a', 1).accessKeyId);
  });

  it('close flushes, then refuses later writes', async () => {
    const w = new CredentialsWriter(file, { timers });
    const a = w.write('a', creds('a', 1));
    await w.close();
    await a;
    expectAgentError(await catchAsync(w.write('b', creds('b', 1))), 'ABORTED', file);
    expect(w.replaceCount).to.equal(1);
  });

  it('uses real timers by default', async () => {
    const w = new CredentialsWriter(file, { batchWindowMs: 1 });
    await Promise.all([w.write('a', creds('a', 1)), w.write('b', creds('b', 1))]);
    expect(w.replaceCount).to.equal(1);
  });
});
