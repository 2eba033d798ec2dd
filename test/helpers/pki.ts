/** The test PKI: certificates generated at test time (no committed key material). */
export * from '../../src/pki/issue.js';
