// A homeowner adds their home the way they know it: a street address and a ZIP code, the
// roof's direction and steepness in words. A wrong form keeps what was typed and lists every
// problem; the home's page says who supplies its electricity and what its roof is. Each page
// is checked at phone and desktop size (no sideways scrolling, no axe-core violation).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startBrowser, createUser, checkPage } from './harness.mjs';

let server;
let chrome;
const email = 'hana@example.com';
const password = 'copper meadow lantern quartz';

before(async () => {
  server = await startServer();
  chrome = await startBrowser();
  await createUser(server, { email, name: 'Hana Okafor', role: 'customer', password });
});

after(async () => {
  await chrome?.browser.close();
  await server?.stop();
});

test('a home from an address and a ZIP code, with every problem shown at once', async () => {
  const { page } = chrome;
  const problems = [];
  await page.goto(server.url + '/login');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));

  await page.goto(server.url + '/sites');
  await page.getByRole('heading', { name: 'Add your home', level: 1 }).waitFor();
  problems.push(...(await checkPage(page, 'homes-new')));

  // A street address, a ZIP code that is not one, and a panel count that is not a number.
  await page.getByLabel('Street address').fill('1200 Elm Street');
  await page.getByLabel('ZIP code').fill('2740');
  await page.getByLabel('Which way does the sunniest side of the roof face?').selectOption({ label: 'South-west' });
  await page.getByLabel(/Panels that fit/).fill('lots');
  await page.getByRole('button', { name: 'Add this home' }).click();
  const summary = page.getByRole('alert');
  await summary.getByText('There are 2 problems with the home').waitFor();
  assert.equal(await page.getByLabel('Street address').inputValue(), '1200 Elm Street', 'the address is kept');
  assert.equal(await page.getByLabel('Which way does the sunniest side of the roof face?').inputValue(), 'sw');
  // The summary's links lead to the fields.
  await summary.getByRole('link', { name: /whole number/ }).click();
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'max_panels');
  problems.push(...(await checkPage(page, 'homes-errors')));

  await page.getByLabel('ZIP code').fill('27401');
  await page.getByLabel(/Panels that fit/).fill('');
  await page.getByRole('button', { name: 'Add this home' }).click();
  await page.getByText('Home added.').waitFor();
  await page.getByText('Duke Energy Carolinas (North Carolina Piedmont)').waitFor();
  await page.getByText('A standard roof facing south-west, about 24 panels').waitFor();
  problems.push(...(await checkPage(page, 'home')));

  await page.goto(server.url + '/sites');
  problems.push(...(await checkPage(page, 'homes-list')));

  assert.deepEqual(problems, []);
  assert.deepEqual(await chrome.violations(), []);
});
