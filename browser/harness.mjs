// Starts the real sunbridge binary on a free port with a fresh SQLite database, and a
// headless Chromium (Debian's; playwright-core downloads no browser) that records every
// Content-Security-Policy violation a page causes.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const BIN = process.env.SUNBRIDGE_TEST_BIN ?? new URL('../target/debug/sunbridge', import.meta.url).pathname;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function startServer(extraEnv = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sunbridge-browser-'));
  const child = spawn(BIN, ['serve', '--listen', '127.0.0.1:0'], {
    env: { ...process.env, SUNBRIDGE_DATA_DIR: dataDir, SUNBRIDGE_ENV: 'development', ...extraEnv },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr = [];
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start in 60 s')), 60_000);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${stderr.join('\n')}`)));
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderr.push(line);
      const match = line.match(/running at (\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function startBrowser() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in CI needs --no-sandbox; the rest keeps Chromium off the (closed) network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext();
  const violations = [];
  // Injected through the DevTools protocol, so the CSP does not block the listener itself.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations = window.__cspViolations ?? [];
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) violations.push(msg.text());
  });
  page.on('pageerror', (err) => violations.push(`page error: ${err.message}`));
  return {
    browser,
    page,
    async violations() {
      const inPage = await page.evaluate(() => window.__cspViolations ?? []);
      return [...violations, ...inPage];
    },
  };
}
