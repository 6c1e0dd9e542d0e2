// The identity story in a real browser: sign up, confirm the address from the mailed link,
// sign in, turn on two-step sign-in with an authenticator code, sign out, and sign in again
// with a code, with no CSP violation on the way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import { startServer, startBrowser, waitForMail, checkPage } from './harness.mjs';

let server;
let chrome;
const email = 'maya@example.com';
const password = 'violet glacier kestrel lantern';

before(async () => {
  server = await startServer();
  chrome = await startBrowser();
});

after(async () => {
  await chrome?.browser.close();
  await server?.stop();
});

// Codes are per 30-second step; start early in one so none changes under our feet.
async function earlyInAStep() {
  const into = Date.now() % 30_000;
  if (into > 20_000) await new Promise((resolve) => setTimeout(resolve, 30_000 - into + 100));
}

test('sign up, verify, enrol TOTP, sign out and sign in with a code', async () => {
  const { page } = chrome;

  await page.goto(server.url + '/signup');
  await page.getByLabel('Your name').fill('Maya Lindqvist');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();

  const [mail] = await waitForMail(server.dataDir, email);
  const token = mail.body.match(/token=([0-9a-f]{64})/)[1];
  // The link carries the configured public URL; open the same path on this test server.
  await page.goto(`${server.url}/verify-email?token=${token}`);
  await page.getByRole('button', { name: 'Confirm my email address' }).click();
  await page.getByRole('heading', { name: 'Email confirmed' }).waitFor();

  await page.goto(server.url + '/login');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // A customer without a home starts by adding one.
  await page.waitForURL(server.url + '/sites');
  await page.getByRole('heading', { name: 'Add your home', level: 1 }).waitFor();
  await page.getByRole('link', { name: 'Account' }).click();
  await page.getByRole('heading', { name: 'Your account' }).waitFor();

  await page.getByLabel('Confirm your password').fill(password);
  await page.getByRole('button', { name: 'Set up two-step sign-in' }).click();
  const secret = (await page.locator('#totp-secret').textContent()).trim();
  assert.equal(await page.locator('.qr svg').count(), 1, 'the QR code is drawn');
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
  await earlyInAStep();
  await page.getByLabel('Code').fill(totp.generate());
  await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
  await page.getByRole('heading', { name: 'Two-step sign-in is on' }).waitFor();
  assert.equal(await page.locator('#recovery-codes li').count(), 10);
  const recovery = (await page.locator('#recovery-codes li').allTextContents()).map((c) => c.trim());

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(server.url + '/');
  await page.getByRole('link', { name: 'Sign in' }).waitFor();

  await page.goto(server.url + '/login');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
  // The step used at enrolment is spent; the next one is within the accepted window.
  await page.getByLabel('Code').fill(totp.generate({ timestamp: Date.now() + 30_000 }));
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(server.url + '/sites');
  await page.goto(server.url + '/account');
  await page.getByText('On. Signing in asks for a code').waitFor();
  const problems = [...(await checkPage(page, 'account'))];

  // Turning it off: a step that says what follows and asks for the password and a code.
  await page.getByRole('link', { name: 'Turn off two-step sign-in' }).click();
  await page.getByRole('heading', { name: 'Turn off two-step sign-in?' }).waitFor();
  problems.push(...(await checkPage(page, 'account-mfa-remove')));
  await page.getByLabel('Your password').fill('not the password at all');
  await page.getByLabel('Code from your authenticator app').fill('000000');
  await page.getByRole('button', { name: 'Yes, turn it off' }).click();
  await page.getByText('There is a problem with turning off two-step sign-in').waitFor();
  problems.push(...(await checkPage(page, 'account-mfa-remove-problem')));
  await page.getByLabel('Your password').fill(password);
  await page.getByLabel('Code from your authenticator app').fill(recovery[0]);
  await page.getByRole('button', { name: 'Yes, turn it off' }).click();
  await page.getByText('Two-step sign-in is off').waitFor();
  await page.getByText('Off. Add an authenticator app').waitFor();
  assert.deepEqual(problems, []);

  assert.deepEqual(await chrome.violations(), []);
});
