// Starts the real sunbridge binary on a free port with a fresh SQLite database, and a
// headless Chromium (Debian's; playwright-core downloads no browser) that records every
// Content-Security-Policy violation a page causes.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
    dataDir,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// Creates an account the way an operator does on a fresh install: `sunbridge admin
// create-user`, with the password on stdin, against the server's own data directory.
export async function createUser(server, { email, name, role, password }) {
  const child = spawn(BIN, ['admin', 'create-user', '--email', email, '--name', name, '--role', role], {
    env: { ...process.env, SUNBRIDGE_DATA_DIR: server.dataDir, SUNBRIDGE_ENV: 'development' },
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  const stderr = [];
  child.stderr.on('data', (chunk) => stderr.push(chunk.toString()));
  child.stdin.end(password + '\n');
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`create-user failed (${code}): ${stderr.join('')}`);
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

// Mail written by the server's file transport: { to, body } of every message so far. Bodies
// may be quoted-printable (long lines): soft line breaks and escaped '=' are undone.
export function sentMail(dataDir) {
  const dir = join(dataDir, 'mail');
  let files = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
  } catch {
    return [];
  }
  return files.map((file) => {
    const raw = readFileSync(join(dir, file), 'utf8');
    const [head, ...rest] = raw.split(/\r?\n\r?\n/);
    let body = rest.join('\n\n');
    if (/Content-Transfer-Encoding:\s*quoted-printable/i.test(head)) {
      body = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
    }
    const to = (head.match(/^To:\s*(.*)$/im) ?? [])[1] ?? '';
    return { to, body };
  });
}

export async function waitForMail(dataDir, to, count = 1) {
  for (let i = 0; i < 100; i += 1) {
    const mails = sentMail(dataDir).filter((m) => m.to.includes(to));
    if (mails.length >= count) return mails;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no mail to ${to}`);
}

// axe-core's own file, evaluated through the DevTools protocol (like the CSP listener above),
// so the page's Content-Security-Policy stays as strict as in production.
const AXE_SOURCE = readFileSync(new URL('./node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');

export const PHONE = { width: 390, height: 844 };
export const NARROW = { width: 360, height: 780 };
export const DESKTOP = { width: 1280, height: 800 };

// Checks the page as it is at phone and desktop size: no sideways scrolling and no axe-core
// violation (WCAG 2.1 A and AA rules and axe's best practices). With SCREENSHOT_DIR set, saves
// a full-page screenshot at each size (`<name>-390.png`, `<name>-1280.png`) to look at.
// Answers the problems found, one line each; an empty list is a pass.
export async function checkPage(page, name) {
  const problems = [];
  // The narrowest phones in use: no sideways scrolling at 360 px either.
  await page.setViewportSize(NARROW);
  const narrow = await page.evaluate(() => document.documentElement.scrollWidth);
  if (narrow > NARROW.width) problems.push(`${name} at ${NARROW.width} px: ${narrow} px wide`);
  // Controls a thumb must hit: at least 44 px tall (WCAG 2.5.5), links in running text aside.
  const small = await page.evaluate(() => [...document.querySelectorAll('main button, main select, main input:not([type=hidden]):not([type=checkbox]):not([type=radio]), main a')]
    .filter((e) => {
      if (e.closest('p, dd, td, figcaption, .help, .legend, label') && e.tagName === 'A') return false;
      // A card's link covers the whole card (its ::after), which is the target.
      if (e.tagName === 'A' && e.closest('.card-link')) return e.closest('.card-link').getBoundingClientRect().height < 44;
      if (e.classList.contains('visually-hidden') || e.closest('.visually-hidden') || e.closest('details:not([open])')) return false;
      const r = e.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && r.height < 44 - 0.5;
    })
    .slice(0, 5)
    .map((e) => `${e.tagName.toLowerCase()} "${(e.textContent || e.name || '').trim().slice(0, 30)}" ${Math.round(e.getBoundingClientRect().height)} px`));
  for (const s of small) problems.push(`${name} at ${NARROW.width} px: tap target ${s}`);
  for (const size of [PHONE, DESKTOP]) {
    await page.setViewportSize(size);
    const { scrollWidth, innerWidth } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
    }));
    if (scrollWidth > innerWidth) {
      // Name what sticks out, outermost first, so the fix is easy to find.
      const culprits = await page.evaluate(() => [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-scroll'))
        .slice(0, 3)
        .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className ? '.' + String(e.className).replace(/ /g, '.') : ''}`));
      problems.push(`${name} at ${size.width} px: ${scrollWidth} px wide (${culprits.join(', ')})`);
    }
    if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(AXE_SOURCE);
    const found = await page.evaluate(async () => {
      const result = await window.axe.run(document, { resultTypes: ['violations'] });
      return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
    for (const v of found) problems.push(`${name} at ${size.width} px: ${v}`);
    if (process.env.SCREENSHOT_DIR) {
      await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, `${name}-${size.width}.png`), fullPage: true });
    }
  }
  return problems;
}

// `sunbridge seed-demo` against the server's data directory: crews, and a sample order at every
// step. Answers each demo account (`customer`, `installer`, `admin`…) with the random password
// the command prints once.
export async function seedDemo(dataDir) {
  const child = spawn(BIN, ['seed-demo'], {
    env: { ...process.env, SUNBRIDGE_DATA_DIR: dataDir, SUNBRIDGE_ENV: 'development' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines = [];
  child.stderr.on('data', (chunk) => lines.push(chunk.toString()));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`seed-demo failed (${code}): ${lines.join('')}`);
  const found = {};
  for (const line of lines.join('').split('\n')) {
    const m = line.match(/^\s+(\w+)\s+(\S+@demo\.sunbridge\.test)\s+(\S+)$/);
    if (m) found[m[1]] = { email: m[2], password: m[3] };
  }
  return found;
}

// Waits, when the current 30-second TOTP step is nearly over, for the next one to begin.
export async function earlyInAStep() {
  const into = Date.now() % 30_000;
  if (into > 20_000) await new Promise((resolve) => setTimeout(resolve, 30_000 - into + 100));
}

// Signs `who` in on `page`; with `totp` (an OTPAuth.TOTP), answers the second-factor page.
export async function signIn(page, baseUrl, who, totp) {
  await page.goto(baseUrl + '/login');
  await page.getByLabel('Email address').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (totp) {
    await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
    // The step used last is spent; the next one is within the accepted window.
    await page.getByLabel('Code').fill(totp.generate({ timestamp: Date.now() + 30_000 }));
    await page.getByRole('button', { name: 'Continue' }).click();
  }
  await page.waitForURL((url) => !url.pathname.startsWith('/login') && !url.pathname.startsWith('/start'));
}

// Turns on the second factor for the signed-in `who` (staff and crews must have one); answers
// the authenticator, an OTPAuth.TOTP.
export async function enrolSecondFactor(page, baseUrl, who, OTPAuth) {
  await page.goto(baseUrl + '/account');
  await page.getByLabel('Confirm your password').fill(who.password);
  await page.getByRole('button', { name: 'Set up two-step sign-in' }).click();
  const secret = (await page.locator('#totp-secret').textContent()).trim();
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
  await earlyInAStep();
  await page.getByLabel('Code').fill(totp.generate());
  await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
  await page.getByRole('heading', { name: 'Two-step sign-in is on' }).waitFor();
  return totp;
}

// Runs SQL against the server's SQLite file, for what a test cannot wait for (a booked day to
// come). Python's sqlite3 is on every machine the tests run on; SQLite's locking makes the
// write safe beside the running server.
export async function sqlite(dataDir, sql, params = []) {
  const script = 'import sqlite3,sys,json; c=sqlite3.connect(sys.argv[1], timeout=10); '
    + 'r=c.execute(sys.argv[2], json.loads(sys.argv[3])); c.commit(); print(r.rowcount)';
  const child = spawn('python3', ['-c', script, join(dataDir, 'sunbridge.db'), sql, JSON.stringify(params)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = [];
  child.stdout.on('data', (chunk) => out.push(chunk.toString()));
  child.stderr.on('data', (chunk) => out.push(chunk.toString()));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`sqlite failed: ${out.join('')}`);
  return Number(out.join('').trim());
}
