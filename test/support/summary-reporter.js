// The spec reporter, plus a JSON summary (passes, failures, pending) written to
// $MOCHA_SUMMARY_FILE when set, so .ci/run can print a plain "N passed, N failed" line.
import Mocha from 'mocha';
import { writeFileSync } from 'node:fs';

export default class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const file = process.env.MOCHA_SUMMARY_FILE;
      if (file) writeFileSync(file, JSON.stringify(runner.stats));
    });
  }
}
