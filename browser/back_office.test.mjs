// The back office in a real browser: a support agent (created on the command line, made to
// set up two-step sign-in first) finds a customer whose data is masked, opens it with a
// reason, and the customer then sees that access on their own account page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import { startServer, startBrowser, createUser } from './harness.mjs';

let server;
let chrome;
const password = 'violet glacier kestrel lantern';

before(async () => {
  server = await startServer();
  chrome = await startBrowser();
  await createUser(server, { email: 'jane.doe@example.com', name: 'Jane Doe', role: 'customer', password });
  await createUser(server, { email: 'sam@example.com', name: 'Sam Okafor', role: 'support', password });
});

after(async () => {
  await chrome?.browser.close();
  await server?.stop();
});

async function earlyInAStep() {
  const into = Date.now() % 30_000;
  if (into > 20_000) await new Promise((resolve) => setTimeout(resolve, 30_000 - into + 100));
}

async function signIn(page, email) {
  await page.goto(server.url + '/login');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Each role starts where its work is; staff without a second factor on their account page.
  await page.waitForURL((url) => !url.pathname.startsWith('/login') && !url.pathname.startsWith('/start'));
}

test('a support agent opens a customer with a reason and the customer sees it', async () => {
  const { page } = chrome;
  await signIn(page, 'sam@example.com');
  // Staff must have a second factor before anything else.
  await page.getByText('Staff accounts need two-step sign-in').waitFor();
  assert.equal(await page.getByRole('link', { name: 'Back office' }).count(), 0);
  await page.getByLabel('Confirm your password').fill(password);
  await page.getByRole('button', { name: 'Set up two-step sign-in' }).click();
  const secret = (await page.locator('#totp-secret').textContent()).trim();
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
  await earlyInAStep();
  await page.getByLabel('Code').fill(totp.generate());
  await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
  await page.getByRole('heading', { name: 'Two-step sign-in is on' }).waitFor();

  await page.goto(server.url + '/account');
  await page.getByRole('link', { name: 'Back office' }).click();
  await page.getByRole('link', { name: 'Customers' }).click();
  await page.getByLabel('Email or name').fill('jane');
  await page.getByRole('button', { name: 'Search' }).click();
  const masked = page.getByRole('link', { name: 'J*** D***' });
  await masked.waitFor();
  assert.equal(await page.getByText('Jane Doe').count(), 0, 'the list is masked');
  await masked.click();
  await page.getByRole('heading', { name: 'J*** D***' }).waitFor();

  await page.getByLabel('Reason').fill('T-5521: customer asked to move her survey date');
  await page.getByRole('button', { name: 'Open with reason' }).click();
  await page.getByRole('heading', { name: 'Jane Doe' }).waitFor();
  await page.getByText('jane.doe@example.com').waitFor();
  assert.deepEqual(await chrome.violations(), []);

  // The customer, in a browser of her own, sees who looked and why.
  const context = await chrome.browser.newContext();
  const customer = await context.newPage();
  await signIn(customer, 'jane.doe@example.com');
  await customer.goto(server.url + '/account');
  const section = customer.locator('#data-access');
  await section.getByRole('heading', { name: 'Who looked at your data' }).waitFor();
  await section.getByRole('cell', { name: 'Sam Okafor' }).waitFor();
  await section.getByRole('cell', { name: 'support' }).waitFor();
  await section.getByText('T-5521: customer asked to move her survey date').waitFor();
  await context.close();
});
