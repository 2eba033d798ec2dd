/**
 * Names that were declared in two places and drifted (issue 15): each is declared once in src/,
 * in the lowest layer that needs it, and imported everywhere else. Declarations are found with
 * TypeScript's parser, so an import, a re-export or a mention in a comment does not count.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../cli/built-cli.js';

/** name → the module that must be its one declaration. */
const ONCE: Record<string, string> = {
  LOG_LEVELS: 'src/log/level.ts',
  LogLevel: 'src/log/level.ts',
  RateLimit: 'src/time/rate-limit.ts',
  isPkcs11Uri: 'src/keys/pkcs11/uri.ts',
  isLoopbackHost: 'src/rolesanywhere/endpoint.ts',
  formatExpiration: 'src/credentials.ts',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Top-level declarations (types, interfaces, classes, functions, enums, variables) of one module. */
function declaredNames(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const names: string[] = [];
  for (const s of source.statements) {
    if (ts.isTypeAliasDeclaration(s) || ts.isInterfaceDeclaration(s) || ts.isEnumDeclaration(s)) names.push(s.name.text);
    else if ((ts.isClassDeclaration(s) || ts.isFunctionDeclaration(s)) && s.name) names.push(s.name.text);
    else if (ts.isVariableStatement(s)) for (const d of s.declarationList.declarations) if (ts.isIdentifier(d.name)) names.push(d.name.text);
  }
  return names;
}

describe('declared once (names that used to drift between two copies)', () => {
  const where = new Map<string, string[]>();
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    for (const name of declaredNames(file)) if (name in ONCE) where.set(name, [...(where.get(name) ?? []), relative(ROOT, file)]);
  }

  for (const [name, home] of Object.entries(ONCE)) {
    it(`${name} is declared only in ${home}`, () => {
      expect(where.get(name), `modules declaring ${name}`).to.deep.equal([home]);
    });
  }
});
