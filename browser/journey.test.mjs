// A new homeowner on a phone (390 × 844), from the landing page to a booked survey day: sign
// up, confirm the email, add the home from its address and ZIP code, give a year's usage, get
// a quote, accept it, pay the deposit, choose a day and confirm it, then follow the roadmap.
// Every page on the way is checked at phone and desktop size (no sideways scrolling, no
// axe-core violation), and no page breaks the Content-Security-Policy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startServer, startBrowser, checkPage, waitForMail, PHONE } from './harness.mjs';

const BIN = process.env.SUNBRIDGE_TEST_BIN ?? new URL('../target/debug/sunbridge', import.meta.url).pathname;

let server;
let chrome;

// The demo install brings crews that serve the Piedmont, so a new home there has free days.
async function seedDemo(dataDir) {
  const child = spawn(BIN, ['seed-demo'], {
    env: { ...process.env, SUNBRIDGE_DATA_DIR: dataDir, SUNBRIDGE_ENV: 'development' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`seed-demo failed (${code})`);
}

before(async () => {
  server = await startServer();
  await seedDemo(server.dataDir);
  chrome = await startBrowser();
});

after(async () => {
  await chrome?.browser.close();
  await server?.stop();
});

test('a new homeowner goes from the landing page to a booked survey day', async () => {
  const { page } = chrome;
  const problems = [];
  // checkPage looks at both sizes and leaves the page at desktop size; the journey is a phone's.
  const check = async (name) => {
    problems.push(...(await checkPage(page, name)));
    await page.setViewportSize(PHONE);
  };
  await page.setViewportSize(PHONE);

  await page.goto(server.url + '/');
  await check('landing');
  await page.getByRole('link', { name: 'Sign up' }).first().click();
  await page.getByLabel('Your name').fill('Rosa Delgado');
  await page.getByLabel('Email address').fill('rosa@example.com');
  await page.getByLabel('Password').fill('amber harbour willow seven');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();

  // The emailed link confirms the address and leads on to the homes.
  const [mail] = await waitForMail(server.dataDir, 'rosa@example.com');
  const link = mail.body.match(/https?:\/\/\S+verify-email\S+/)[0];
  await page.goto(server.url + new URL(link).pathname + new URL(link).search);
  await page.getByRole('button', { name: 'Confirm my email address' }).click();
  await page.getByRole('link', { name: 'Continue to my homes' }).click();
  // Signing in returns to the page that asked for it.
  await page.waitForURL((url) => url.pathname === '/login' && url.searchParams.get('next') === '/sites');
  await page.getByLabel('Email address').fill('rosa@example.com');
  await page.getByLabel('Password').fill('amber harbour willow seven');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(server.url + '/sites');
  await page.getByRole('heading', { name: 'Add your home', level: 1 }).waitFor();
  await check('journey-add-home');

  await page.getByLabel('Name (for you)').fill('Our house');
  await page.getByLabel('Street address').fill('1200 Elm Street');
  await page.getByLabel('ZIP code').fill('27401');
  await page.getByLabel('Which way does the sunniest side of the roof face?').selectOption({ label: 'South' });
  await page.getByRole('button', { name: 'Add this home' }).click();
  await page.getByText('Home added.').waitFor();

  await page.getByLabel('Or: kWh in a year (from your bills)').fill('10400');
  await page.getByRole('button', { name: 'Use this figure' }).click();
  await page.getByRole('button', { name: 'Get a quote' }).click();
  await page.getByRole('heading', { name: 'Your quote for Our house' }).waitFor();
  await check('journey-quote');

  await page.getByRole('button', { name: 'Accept this quote' }).click();
  await page.getByRole('heading', { name: 'Solar for Our house', level: 1 }).waitFor();
  await page.getByText('1200 Elm Street').first().waitFor();
  await check('journey-order-accepted');

  await page.getByRole('button', { name: /^Pay \$/ }).click();
  await page.getByText('no money moves').waitFor();
  await page.getByRole('button', { name: /^Pay \$/ }).click();
  await page.getByRole('heading', { name: 'Choose a day for your site survey' }).waitFor();
  await check('journey-calendar');

  // Choosing a day asks first and says what booking means; going back books nothing.
  const firstDay = page.locator('.calendar button').first();
  await firstDay.click();
  await page.getByRole('heading', { name: /^Book your site survey on / }).waitFor();
  await check('journey-confirm-booking');
  await page.getByRole('link', { name: 'Choose another day' }).click();
  await page.getByRole('heading', { name: 'Choose a day for your site survey' }).waitFor();
  await page.locator('.calendar button').first().click();
  await page.getByRole('button', { name: 'Yes, book this time' }).click();
  await page.getByText('Day booked.').waitFor();

  // The roadmap: done steps, the booked day, and every step ahead with a date.
  const roadmap = page.locator('.roadmap');
  await roadmap.getByText('waiting for a crew to confirm').waitFor();
  const current = roadmap.locator('[aria-current="step"]');
  assert.match(await current.textContent(), /Site survey scheduled/);
  assert.match(await roadmap.locator('li').filter({ hasText: 'Site surveyed' }).textContent(), /(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day \d+ [A-Z][a-z]+/);
  assert.equal(await roadmap.locator('li').count(), 12);
  assert.match(await roadmap.locator('li').last().textContent(), /System switched on\s+around/);
  await check('journey-roadmap');

  // The order list names the order by its home.
  await page.getByRole('link', { name: 'My orders', exact: true }).click();
  await page.getByRole('link', { name: 'Our house' }).waitFor();
  await check('journey-orders');

  // Cancelling asks first; keeping the order leaves it as it was.
  await page.getByRole('link', { name: 'Our house' }).click();
  await page.getByRole('button', { name: 'Cancel the order' }).click();
  await page.getByRole('heading', { name: 'Cancel your order?' }).waitFor();
  await check('journey-confirm-cancel');
  await page.getByRole('link', { name: 'Keep my order' }).click();
  await page.locator('.roadmap').getByText('waiting for a crew to confirm').waitFor();

  // A page that does not exist keeps the navigation and a way back.
  await page.goto(server.url + '/orders/not-an-order');
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await check('journey-not-found');

  assert.deepEqual(problems, []);
  assert.deepEqual(await chrome.violations(), []);
});
