// Prints the plain "N passed, N failed" line from vitest's JSON report, so a run that
// executed no test is visible. Exits 1 when the report is missing or nothing ran.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results/vitest.json';
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (e) {
  console.log('0 passed, 0 failed');
  console.error(`no test report at ${file}: ${e.message}`);
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(passed > 0 && failed === 0 && report.success !== false ? 0 : 1);
