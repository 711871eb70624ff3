// Mocha's spec reporter plus, at the end of the run, where the time went: the slowest files and
// the slowest describes, wall time from their first hook to their last (so a `before` that
// extracts a root or boots a container counts for its describe).
//
//   npx mocha --reporter test/support/timing-reporter.cjs FILES
//
// TWINSYNC_TEST_TIMINGS=PATH also writes every file's and describe's time there as JSON (what CI
// keeps to compare runs). TWINSYNC_TEST_TIMINGS_TOP=N lists N of each (default 15).
// CommonJS because mocha loads reporters with require().
'use strict';

const { writeFileSync } = require('node:fs');
const { relative } = require('node:path');
const Mocha = require('mocha');

const { EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_RUN_END } = Mocha.Runner.constants;

class TimingReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const started = new Map();
    const describes = [];
    const files = new Map();
    runner.on(EVENT_SUITE_BEGIN, (suite) => {
      if (!suite.root) started.set(suite, process.hrtime.bigint());
    });
    runner.on(EVENT_SUITE_END, (suite) => {
      const begin = started.get(suite);
      if (begin === undefined) return;
      const seconds = Number(process.hrtime.bigint() - begin) / 1e9;
      const file = suite.file ? relative(process.cwd(), suite.file) : '?';
      describes.push({ file, title: suite.fullTitle(), seconds, tests: suite.total() });
      // A file's time: its top-level describes (a suite whose parent is the root suite).
      if (suite.parent && suite.parent.root) files.set(file, (files.get(file) ?? 0) + seconds);
    });
    runner.once(EVENT_RUN_END, () => {
      const top = Number(process.env.TWINSYNC_TEST_TIMINGS_TOP ?? 15);
      const total = [...files.values()].reduce((a, b) => a + b, 0);
      const line = (s, what) => `  ${s.toFixed(1).padStart(7)} s  ${what}`;
      const out = [`\n  Slowest files (${files.size} files, ${total.toFixed(0)} s in describes):`];
      for (const [file, s] of [...files].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(line(s, file));
      out.push('', '  Slowest describes (nested ones included, so they overlap):');
      for (const d of [...describes].sort((a, b) => b.seconds - a.seconds).slice(0, top)) {
        out.push(line(d.seconds, `${d.title} (${d.tests} tests; ${d.file})`));
      }
      process.stdout.write(`${out.join('\n')}\n`);
      const path = process.env.TWINSYNC_TEST_TIMINGS;
      if (path) {
        const sortedFiles = [...files].sort((a, b) => b[1] - a[1]).map(([file, seconds]) => ({ file, seconds }));
        writeFileSync(path, `${JSON.stringify({ files: sortedFiles, describes }, null, 1)}\n`);
      }
    });
  }
}

TimingReporter.description = 'spec, then the slowest files and describes';
module.exports = TimingReporter;
