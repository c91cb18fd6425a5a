// The grammar tests named after an example ("examples/sales.flow" in
// their SYNTAX TEST line) test that example's own lines: every source
// line of the test must be a line of the example, so the tests cannot
// drift from the files users copy.
'use strict';
const fs = require('fs');
const path = require('path');

let failed = 0;
for (const name of fs.readdirSync(__dirname).filter((n) => n.endsWith('.test.flow'))) {
  const lines = fs.readFileSync(path.join(__dirname, name), 'utf8').split('\n');
  const m = /^# SYNTAX TEST "[^"]+" "(examples\/[\w.-]+\.flow)"/.exec(lines[0]);
  if (!m) continue;
  const example = new Set(fs.readFileSync(path.join(__dirname, '..', '..', m[1]), 'utf8').split('\n'));
  lines.slice(1).forEach((line, i) => {
    const assertion = /^#\s*(\^|<-)/.test(line);
    if (!assertion && line !== '' && !example.has(line)) {
      console.error(`${name}:${i + 2}: not a line of ${m[1]}: ${line}`);
      failed++;
    }
  });
}
if (failed) process.exit(1);
console.log('grammar tests match the examples');
