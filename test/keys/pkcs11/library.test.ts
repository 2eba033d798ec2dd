import { expect } from 'chai';
import { isAgentError, type AgentError } from '../../../src/errors.js';
import { openPkcs11Signer } from '../../../src/keys/pkcs11/signer.js';
import { Pkcs11Registry } from '../../../src/keys/pkcs11/registry.js';
import { P11_KIT_PROXY_PATHS, resolveModulePath } from '../../../src/keys/pkcs11/library.js';

function failure(fn: () => unknown): AgentError {
  try {
    fn();
  } catch (e) {
    if (isAgentError(e)) return e;
    throw e;
  }
  throw new Error('expected an AgentError');
}

describe('choosing the PKCS#11 module', () => {
  it('uses the configured library, then the URI module-path, when they agree', () => {
    expect(resolveModulePath({ configured: '/a.so', exists: () => false })).to.equal('/a.so');
    expect(resolveModulePath({ uriModulePath: '/b.so', exists: () => false })).to.equal('/b.so');
    expect(resolveModulePath({ uriModulePath: '/a.so', configured: '/a.so', exists: () => false })).to.equal('/a.so');
  });

  it('refuses a URI module-path that contradicts the configured library', () => {
    expect(failure(() => resolveModulePath({ uriModulePath: '/b.so', configured: '/a.so' })).code).to.equal('CONFIG_INVALID');
  });

  it('defaults to the first p11-kit proxy that exists', () => {
    const present = new Set(['/usr/lib64/p11-kit-proxy.so', '/usr/lib/p11-kit-proxy.so']);
    expect(resolveModulePath({ exists: (p) => present.has(p) })).to.equal('/usr/lib64/p11-kit-proxy.so');
    expect(P11_KIT_PROXY_PATHS[0]).to.equal('/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so');
  });

  it('without a library or a proxy, fails with PKCS11 naming --pkcs11-lib and pkcs11_lib:', () => {
    const e = failure(() => resolveModulePath({ exists: () => false }));
    expect(e.code).to.equal('PKCS11');
    expect(e.hint).to.contain('--pkcs11-lib').and.to.contain('pkcs11_lib:');
  });
});

describe('loading the native binding', () => {
  it('turns a failed load of pkcs11js into PKCS11 with a rebuild hint that says file keys still work', async () => {
    const registry = new Pkcs11Registry({
      load: () => Promise.reject(new Error("Cannot find module 'pkcs11.node'")),
    });
    let caught: unknown;
    try {
      await openPkcs11Signer({ certificate: '/x.pem', privateKey: 'pkcs11:token=t', pkcs11Lib: '/usr/lib/softhsm/libsofthsm2.so' }, { registry, env: {} });
    } catch (e) {
      caught = e;
    }
    expect(isAgentError(caught)).to.equal(true);
    const e = caught as AgentError;
    expect(e.code).to.equal('PKCS11');
    expect(e.message).to.contain('pkcs11js').and.to.contain('pkcs11.node');
    expect(e.hint).to.contain('npm rebuild pkcs11js').and.to.contain('keys in files work');
  });

  it('names the module path when the library cannot be loaded', async () => {
    let caught: unknown;
    try {
      await openPkcs11Signer({ certificate: '/x.pem', privateKey: 'pkcs11:token=t', pkcs11Lib: '/nonexistent/module.so' }, { env: {} });
    } catch (e) {
      caught = e;
    }
    expect((caught as AgentError).code).to.equal('PKCS11');
    expect((caught as AgentError).message).to.contain('/nonexistent/module.so');
  });
});
