// Booking in a real browser: on a demo install (crews, and a sample order at every step), the
// demo customer pays the deposit of a fresh order on the payment page, picks the first free
// day from the calendar, and the demo installer accepts it in the installer portal; the
// customer's roadmap then shows the confirmed survey and the crew. No CSP violation on the way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as OTPAuth from 'otpauth';
import { startServer, startBrowser, checkPage } from './harness.mjs';

const BIN = process.env.SUNBRIDGE_TEST_BIN ?? new URL('../target/debug/sunbridge', import.meta.url).pathname;

let server;
let chrome;
let passwords;
// Authenticator secrets of accounts that turned the second factor on, by email.
const totps = {};

// `sunbridge seed-demo` prints each demo account's random password once.
async function seedDemo(dataDir) {
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

before(async () => {
  server = await startServer();
  passwords = await seedDemo(server.dataDir);
  chrome = await startBrowser();
});

after(async () => {
  await chrome?.browser.close();
  await server?.stop();
});

async function signIn(page, who) {
  await page.goto(server.url + '/login');
  await page.getByLabel('Email address').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (totps[who.email]) {
    await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
    // The step used last is spent; the next one is within the accepted window.
    await page.getByLabel('Code').fill(totps[who.email].generate({ timestamp: Date.now() + 30_000 }));
    await page.getByRole('button', { name: 'Continue' }).click();
  }
  await page.waitForURL((url) => !url.pathname.startsWith('/login') && !url.pathname.startsWith('/start'));
}

async function earlyInAStep() {
  const into = Date.now() % 30_000;
  if (into > 20_000) await new Promise((resolve) => setTimeout(resolve, 30_000 - into + 100));
}

test('a customer pays, books a day from the calendar, and the crew confirms it', async () => {
  const { page } = chrome;
  await signIn(page, passwords.customer);
  await page.getByRole('link', { name: 'My orders' }).click();
  // The sample order that was just accepted.
  const card = page.locator('li.card-link').filter({ hasText: 'Quote accepted' });
  await card.first().getByRole('link').click();
  await page.getByRole('heading', { name: 'Pay the deposit' }).waitFor();
  await page.getByRole('button', { name: /^Pay \$/ }).click();
  // The payment provider's page (the development stand-in), then back to the order.
  await page.getByText('no money moves').waitFor();
  await page.getByRole('button', { name: /^Pay \$/ }).click();
  await page.getByText('The deposit shows here').waitFor();
  await page.getByRole('heading', { name: 'Choose a day for your site survey' }).waitFor();
  const firstDay = page.locator('.calendar button').first();
  const dayLabel = (await firstDay.textContent()).trim();
  await firstDay.click();
  await page.getByRole('button', { name: 'Yes, book this day' }).click();
  await page.getByText('Day booked.').waitFor();
  await page.getByText('waiting for a crew to confirm').waitFor();
  const orderUrl = page.url().split('?')[0];
  assert.deepEqual(await chrome.violations(), []);

  // The installer, on a phone-sized screen: enrol the second factor, then accept the offer.
  const context = await chrome.browser.newContext({ viewport: { width: 390, height: 844 } });
  const phone = await context.newPage();
  await signIn(phone, passwords.installer);
  await phone.getByLabel('Confirm your password').fill(passwords.installer.password);
  await phone.getByRole('button', { name: 'Set up two-step sign-in' }).click();
  const secret = (await phone.locator('#totp-secret').textContent()).trim();
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
  await earlyInAStep();
  await phone.getByLabel('Code').fill(totp.generate());
  await phone.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
  await phone.getByRole('heading', { name: 'Two-step sign-in is on' }).waitFor();
  totps[passwords.installer.email] = totp;
  await phone.goto(server.url + '/installer');
  const offer = phone.locator('li.panel').filter({ hasText: 'site survey on' });
  await offer.first().waitFor();
  await offer.first().getByRole('button', { name: 'Accept' }).click();
  await phone.getByText('Accepted: the job is on your list').waitFor();
  await context.close();

  // The customer's roadmap shows the confirmed day and the crew.
  await page.goto(orderUrl);
  await page.locator('.roadmap').getByText('Site survey scheduled').waitFor();
  await page.locator('.roadmap').getByText('confirmed by the crew').waitFor();
  await page.locator('.counts').getByText('your crew').waitFor();
  assert.ok(dayLabel.length > 0);
  assert.deepEqual(await chrome.violations(), []);
});

// Signs `who` in on a fresh page and turns on the second factor staff and crews must have.
async function signInEnrolled(who) {
  const context = await chrome.browser.newContext();
  const page = await context.newPage();
  await signIn(page, who);
  if (totps[who.email]) return { context, page };
  await page.goto(server.url + '/account');
  await page.getByLabel('Confirm your password').fill(who.password);
  await page.getByRole('button', { name: 'Set up two-step sign-in' }).click();
  const secret = (await page.locator('#totp-secret').textContent()).trim();
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
  await earlyInAStep();
  await page.getByLabel('Code').fill(totp.generate());
  await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
  await page.getByRole('heading', { name: 'Two-step sign-in is on' }).waitFor();
  totps[who.email] = totp;
  return { context, page };
}

test('every page of the back office and the crew portal fits a phone and passes axe-core', async () => {
  const problems = [];
  const visit = async (page, path, name) => {
    const response = await page.goto(server.url + path);
    assert.equal(response.status(), 200, path);
    problems.push(...(await checkPage(page, name)));
  };

  const admin = await signInEnrolled(passwords.admin);
  for (const [path, name] of [
    ['/staff', 'staff-home'],
    ['/staff/jobs', 'staff-jobs'],
    ['/staff/customers', 'staff-customers'],
    ['/admin/catalog', 'admin-catalog'],
    ['/admin/staff', 'admin-staff'],
    ['/admin/crews', 'admin-crews'],
    ['/admin/security', 'admin-security'],
    ['/admin/audit', 'admin-audit'],
    ['/admin/access-review', 'admin-access-review'],
    ['/admin/security/report', 'admin-security-report'],
  ]) {
    await visit(admin.page, path, name);
  }
  // A crew's page and a job's page, from the lists.
  await admin.page.goto(server.url + '/admin/crews');
  await admin.page.locator('main a[href^="/admin/crews/"]').first().click();
  problems.push(...(await checkPage(admin.page, 'admin-crew')));
  await admin.page.goto(server.url + '/staff/jobs');
  await admin.page.locator('main a[href^="/jobs/"]').first().click();
  problems.push(...(await checkPage(admin.page, 'staff-job')));
  await admin.context.close();

  const sales = await signInEnrolled(passwords.sales);
  await visit(sales.page, '/staff/pipeline', 'sales-pipeline');
  await sales.context.close();

  const support = await signInEnrolled(passwords.support);
  await support.page.goto(server.url + '/staff/customers');
  await support.page.getByLabel('Email or name').fill(passwords.customer.email);
  await support.page.getByRole('button', { name: 'Search' }).click();
  await support.page.locator('main a[href^="/staff/customers/"]').first().click();
  problems.push(...(await checkPage(support.page, 'support-customer')));
  await support.context.close();

  const crew = await signInEnrolled(passwords.installer);
  await visit(crew.page, '/installer', 'installer-portal');
  await crew.page.locator('main a[href^="/jobs/"]').first().click();
  problems.push(...(await checkPage(crew.page, 'installer-job')));
  await crew.context.close();

  assert.deepEqual(problems, []);
  assert.deepEqual(await chrome.violations(), []);
});
