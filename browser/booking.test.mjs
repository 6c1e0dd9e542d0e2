// Booking in a real browser: on a demo install (crews, and a sample order at every step), the
// demo customer pays the deposit of a fresh order on the payment page, picks the first free
// day from the calendar, and the demo installer accepts it in the installer portal; the
// customer's timeline then shows the confirmed survey. No CSP violation on the way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as OTPAuth from 'otpauth';
import { startServer, startBrowser } from './harness.mjs';

const BIN = process.env.SUNBRIDGE_TEST_BIN ?? new URL('../target/debug/sunbridge', import.meta.url).pathname;

let server;
let chrome;
let passwords;

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
  await page.waitForURL(server.url + '/account');
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
  const row = page.getByRole('row').filter({ hasText: 'Quote accepted' });
  await row.getByRole('link').click();
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
  await phone.goto(server.url + '/installer');
  const offer = phone.locator('li.panel').filter({ hasText: 'site survey on' });
  await offer.first().waitFor();
  await offer.first().getByRole('button', { name: 'Accept' }).click();
  await phone.getByText('Accepted: the job is on your list').waitFor();
  await context.close();

  // The customer's timeline shows the confirmed day.
  await page.goto(orderUrl);
  await page.locator('.timeline').getByText('Site survey scheduled').waitFor();
  await page.getByText(`confirmed`).first().waitFor();
  assert.ok(dayLabel.length > 0);
  assert.deepEqual(await chrome.violations(), []);
});
