// Mocha's spec reporter plus, at the end of the run, where the time went: the slowest files and
// the slowest describes, wall time from their first hook to their last (so a `before` that
// extracts a root or boots a container counts for its describe).
//
//   npx mocha --reporter test/support/timing-reporter.cjs FILES
//
// TWINSYNC_TEST_TIMINGS=PATH also writes every file's and describe's time there as JSON (what CI
// keeps to compare runs), with the CPU the run used (`cpu`, below). TWINSYNC_TEST_TIMINGS_TOP=N
// lists N of each (default 15).
//
// CPU: the mocha process's own user and system time and its reaped children's (git, tar, the
// CLI, systemd-nspawn and what each of those reaped), from /proc/self/stat at the end of the run:
// with the groups' wall times it says how busy the CI machine's cores were (session 27: whether a
// third group could use idle CPU, or the run is bound by CPU and only less work makes it shorter).
// A daemon that left its parent is not counted, so it is a lower bound. Each file's CPU too (its
// top-level describes', mocha's process and the children reaped meanwhile): on a machine whose
// cores are busy for the whole run, the files that cost the most CPU are where a shorter run is.
// Memory (session 37): mocha's resident memory at each file's end (`rssMB`) and its peak
// (`maxRssMB`), to see whether a group's process grows: five heavy files in one process cost up
// to 1.6 times the CPU each costs alone (the programs they run too), and a node process of
// 1.2 GB resident spent about 5 ms more CPU a spawn than one of 50 MB (300 `git --version`:
// 1.96 s against 0.52 s, parent and child), a cost paid on every git a test runs.
// CommonJS because mocha loads reporters with require().
'use strict';

const { readFileSync, writeFileSync } = require('node:fs');
const { relative } = require('node:path');
const Mocha = require('mocha');

const { EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_RUN_END } = Mocha.Runner.constants;

/** Seconds of CPU of this process and of its reaped children (utime, stime, cutime, cstime); undefined off Linux. */
function cpuSeconds() {
  try {
    // The fields after the command's name (in parentheses, which may hold spaces): state is field 3.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = (n) => Number(fields[n - 3]) / 100; // USER_HZ: 100 on Linux
    return { self: ticks(14) + ticks(15), children: ticks(16) + ticks(17) };
  } catch {
    return undefined;
  }
}

class TimingReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const started = new Map();
    const describes = [];
    const files = new Map();
    const cpuStarted = new Map();
    const fileCpu = new Map();
    const fileRss = new Map();
    runner.on(EVENT_SUITE_BEGIN, (suite) => {
      if (!suite.root) started.set(suite, process.hrtime.bigint());
      if (suite.parent && suite.parent.root) cpuStarted.set(suite, cpuSeconds());
    });
    runner.on(EVENT_SUITE_END, (suite) => {
      const begin = started.get(suite);
      if (begin === undefined) return;
      const seconds = Number(process.hrtime.bigint() - begin) / 1e9;
      const file = suite.file ? relative(process.cwd(), suite.file) : '?';
      describes.push({ file, title: suite.fullTitle(), seconds, tests: suite.total() });
      // A file's time: its top-level describes (a suite whose parent is the root suite).
      if (suite.parent && suite.parent.root) {
        files.set(file, (files.get(file) ?? 0) + seconds);
        fileRss.set(file, Math.round(process.memoryUsage().rss / 1e6));
        const before = cpuStarted.get(suite);
        const after = cpuSeconds();
        if (before !== undefined && after !== undefined) {
          const sum = fileCpu.get(file) ?? { self: 0, children: 0 };
          fileCpu.set(file, { self: sum.self + after.self - before.self, children: sum.children + after.children - before.children });
        }
      }
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
      const cpu = cpuSeconds();
      if (cpu !== undefined) {
        out.push('', `  CPU: ${cpu.self.toFixed(0)} s in mocha's process, ${cpu.children.toFixed(0)} s in the programs it ran`);
        const cpuOf = ([, c]) => c.self + c.children;
        for (const entry of [...fileCpu].sort((a, b) => cpuOf(b) - cpuOf(a)).slice(0, top)) {
          out.push(line(cpuOf(entry), `CPU of ${entry[0]} (${entry[1].self.toFixed(0)} s in mocha's process)`));
        }
      }
      const maxRssMB = Math.round((process.resourceUsage().maxRSS * 1024) / 1e6);
      out.push('', `  Memory: mocha's process at most ${maxRssMB} MB resident`);
      process.stdout.write(`${out.join('\n')}\n`);
      const path = process.env.TWINSYNC_TEST_TIMINGS;
      if (path) {
        const sortedFiles = [...files].sort((a, b) => b[1] - a[1]).map(([file, seconds]) => ({ file, seconds, ...(fileCpu.has(file) ? { cpu: fileCpu.get(file) } : {}), rssMB: fileRss.get(file) }));
        writeFileSync(path, `${JSON.stringify({ files: sortedFiles, describes, ...(cpu === undefined ? {} : { cpu }), maxRssMB }, null, 1)}\n`);
      }
    });
  }
}

TimingReporter.description = 'spec, then the slowest files and describes';
module.exports = TimingReporter;
