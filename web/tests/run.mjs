// ctest's entry for the browser tests (web.browser): checks what they need and says SKIPPED
// with the reason (exit 77, ctest's SKIP_RETURN_CODE) when something is missing, else runs
// dashboard.test.mjs with node's test runner and returns its status.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const chromium = process.env.FLOWSCOPE_CHROMIUM || '/usr/bin/chromium';
const dist = process.env.FLOWSCOPE_WEB_DIST || '';
// --why-skip: only say why the tests would be skipped (make test prints it after ctest).
const whyOnly = process.argv.includes('--why-skip');
const skip = (why) => {
  console.log(`${whyOnly ? 'web.browser: ' : ''}SKIPPED: ${why}`);
  process.exit(whyOnly ? 0 : 77);
};
if (!existsSync(chromium)) skip(`${chromium} is not installed (apt-get install chromium; .ci/run does)`);
if (!existsSync(join(here, '..', 'node_modules', 'playwright-core'))) {
  skip('web/node_modules has no playwright-core: build with npm on the PATH (make build runs npm ci)');
}
if (!dist || !existsSync(join(dist, 'index.html'))) skip(`the dashboard is not built (${dist || 'FLOWSCOPE_WEB_DIST unset'}/index.html)`);
if (!process.env.FLOWSCOPE_BINARY || !existsSync(process.env.FLOWSCOPE_BINARY)) skip('FLOWSCOPE_BINARY is not set to the flowscope binary');
if (whyOnly) process.exit(0);
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', join(here, 'dashboard.test.mjs')], {
  stdio: 'inherit',
  env: { ...process.env, FLOWSCOPE_CHROMIUM: chromium },
});
process.exit(r.status === null ? 1 : r.status);
