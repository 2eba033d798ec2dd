// mocha merges the files named on its command line with a configured `spec`, so a configured glob
// would make `npx mocha test/x.test.ts` run the whole suite too. The glob applies only when no
// test file is named.
const named = process.argv.slice(2).some((a) => /\.test\.[cm]?[jt]s$/.test(a) || a.startsWith('test/'));
module.exports = {
  ...(named ? {} : { spec: ['test/**/*.test.ts'] }),
  'node-option': ['import=tsx'],
  timeout: 30000,
  reporter: './test/support/summary-reporter.js',
  'forbid-only': true,
  'forbid-pending': true,
  exit: true,
};
