// The crew app on a phone in Chromium: installable (what Chromium itself reports), "Today"
// with the visit cards, and a survey recorded on a roof without signal — the photo and the
// step wait on the phone, are sent once when the signal returns (also when sent again), a
// second tap refused by the server comes back with its reason, and signing out leaves nothing
// on the phone. A second server with a short idle timeout shows the app signing itself out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import {
  startServer, startBrowser, checkPage, seedDemo, signIn, enrolSecondFactor, sqlite, PHONE,
} from './harness.mjs';

let server;
let chrome;
let passwords;
// The demo installer's authenticator, once enrolled.
let installerTotp;
// Script errors on the phone's pages, and messages about the CSP.
const pageErrors = [];
// Any real PNG will do as the roof's photo: the app's own icon.
const PNG_ROOF = readFileSync(new URL('../static/icon-192.png', import.meta.url));

before(async () => {
  // One photo for the survey keeps the story short: one photo, one step.
  server = await startServer({ SUNBRIDGE_SURVEY_PHOTOS: 'roof' });
  passwords = await seedDemo(server.dataDir);
  chrome = await startBrowser();
});

after(async () => {
  await chrome?.browser.close();
  await server?.stop();
});

async function phone() {
  const context = await chrome.browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) pageErrors.push(msg.text());
  });
  return { context, page };
}

// The page is controlled by the service worker (the first visit installs it).
async function controlled(page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  if (!(await page.evaluate(() => navigator.serviceWorker.controller !== null))) await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
}

test('Chromium reports the app installable: manifest, icons, worker', async () => {
  // A profile on disk: Chromium never offers to install from an incognito profile, which is
  // what a test context is.
  const profile = mkdtempSync(join(tmpdir(), 'sunbridge-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    viewport: PHONE,
    isMobile: true,
    hasTouch: true,
  });
  try {
    const page = await context.newPage();
    await page.goto(server.url + '/');
    await controlled(page);
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installabilityErrors, []);
    const manifest = await cdp.send('Page.getAppManifest');
    assert.deepEqual(manifest.errors, []);
    assert.match(manifest.url, /\/manifest\.webmanifest$/);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test('a crew records a survey without signal, and it reaches the server exactly once', async () => {
  const { context, page } = await phone();
  await signIn(page, server.url, passwords.installer);
  installerTotp = await enrolSecondFactor(page, server.url, passwords.installer, OTPAuth);
  await page.goto(server.url + '/installer');
  await controlled(page);

  const problems = [...(await checkPage(page, 'installer-today'))];
  await page.setViewportSize(PHONE);
  const card = page.locator('li.visit').filter({ hasText: 'Site survey' }).first();
  await card.getByRole('link', { name: 'Directions' }).waitFor();
  assert.match(await card.getByRole('link', { name: 'Directions' }).getAttribute('href'), /^geo:-?\d+\.\d+,-?\d+\.\d+\?q=/);
  const href = await card.locator('a.card-target').getAttribute('href');
  const job = href.split('/').pop();

  // The survey day comes (a test cannot wait for the calendar).
  const moved = await sqlite(
    server.dataDir,
    "UPDATE bookings SET day = date('now', '-1 day') WHERE kind = 'survey' AND status = 'confirmed' "
      + 'AND (job_id = ? OR lower(hex(job_id)) = ?)',
    [job, job.replace(/-/g, '')],
  );
  assert.equal(moved, 1);
  await page.goto(server.url + href);
  await page.getByText('Take the roof photo first.').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Site surveyed' }).isVisible(), false);
  problems.push(...(await checkPage(page, 'installer-job-before-photos')));
  await page.setViewportSize(PHONE);

  // On the roof, no signal.
  await context.setOffline(true);
  await page.reload();
  await page.getByLabel('What it shows').selectOption('roof');
  await page.locator('#photo').setInputFiles({ name: 'roof.png', mimeType: 'image/png', buffer: PNG_ROOF });
  await page.getByRole('button', { name: 'Add the photo' }).click();
  await page.getByText('No signal: saved on this phone.').waitFor();
  const queue = page.locator('[data-queue-list]');
  await queue.getByText('Photo: The roof: waiting to send').waitFor();
  // The photo is on the phone, so the step can be taken: the button shows.
  await page.getByRole('button', { name: 'Site surveyed' }).click();
  await queue.getByText('Site surveyed: waiting to send').waitFor();
  // A second tap, as happens on a roof: the server will refuse this one.
  await page.getByRole('button', { name: 'Site surveyed' }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-queue-list] li').length === 3);
  // A page the phone did not keep: the offline page, and the queue and kept pages stay.
  await page.goto(server.url + '/account');
  await page.getByRole('heading', { name: 'No signal' }).waitFor();
  await page.goto(server.url + href);
  await page.waitForFunction(() => document.querySelectorAll('[data-queue-list] li').length === 3);
  problems.push(...(await checkPage(page, 'installer-job-offline-queue')));
  await page.setViewportSize(PHONE);
  // Copies of what was sent, to send it all again later as a phone that never heard back does.
  await page.evaluate(async () => {
    const items = await self.SunbridgeOutbox.list();
    const db = await new Promise((resolve) => {
      const r = indexedDB.open('test-copies', 1);
      r.onupgradeneeded = () => r.result.createObjectStore('items', { keyPath: 'key' });
      r.onsuccess = () => resolve(r.result);
    });
    await new Promise((resolve) => {
      const tx = db.transaction('items', 'readwrite');
      for (const item of items) tx.objectStore('items').put(item);
      tx.oncomplete = resolve;
    });
  });

  // The signal returns: the queue goes out by itself and the page shows the job as it is now.
  await context.setOffline(false);
  await page.getByRole('heading', { level: 1, name: 'Site surveyed' }).waitFor({ timeout: 15_000 });
  await queue.getByText('Site surveyed: not recorded. The job is at “Site surveyed” now, and “Site surveyed” does not follow that step.').waitFor();
  problems.push(...(await checkPage(page, 'installer-job-refused-in-queue')));
  await page.setViewportSize(PHONE);

  // The same photo and steps sent twice more: nothing new is recorded.
  await page.evaluate(async () => {
    const db = await new Promise((resolve) => {
      const r = indexedDB.open('test-copies', 1);
      r.onsuccess = () => resolve(r.result);
    });
    const copies = await new Promise((resolve) => {
      const r = db.transaction('items').objectStore('items').getAll();
      r.onsuccess = () => resolve(r.result);
    });
    for (let round = 0; round < 2; round += 1) {
      for (const item of copies) await self.SunbridgeOutbox.add({ ...item, state: 'waiting' });
      await self.SunbridgeOutbox.flush();
    }
  });
  await page.goto(server.url + href);
  assert.equal(await page.locator('ul.photos li').count(), 1, 'one photo');
  assert.equal(await page.locator('.timeline li').filter({ hasText: 'Site surveyed' }).count(), 1, 'one step');

  // Signing out leaves nothing of the crew's on the phone.
  await page.goto(server.url + '/installer');
  assert.ok((await page.evaluate(() => caches.keys())).includes('pages'));
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/installer'));
  assert.ok(!(await page.evaluate(() => caches.keys())).includes('pages'));
  const databases = (await page.evaluate(() => indexedDB.databases())).map((d) => d.name);
  assert.ok(!databases.includes('sunbridge-outbox'), databases.join(', '));
  await context.close();
  assert.deepEqual(problems, []);
  assert.deepEqual(pageErrors, []);
});

test('an offer made by a booking appears on the open crew app within two seconds, without a reload', async () => {
  const crew = await phone();
  await signIn(crew.page, server.url, passwords.installer, installerTotp);
  await crew.page.goto(server.url + '/installer');
  await crew.page.evaluate(() => { window.notReloaded = true; });
  const before = await crew.page.locator('li.offer').count();
  // Let the stream open before the booking.
  await crew.page.waitForTimeout(1500);

  const customer = await phone();
  await signIn(customer.page, server.url, passwords.customer);
  await customer.page.goto(server.url + '/orders');
  await customer.page.locator('li.card-link').filter({ hasText: 'Deposit paid' }).first().getByRole('link').click();
  await customer.page.locator('.calendar button').first().click();
  await customer.page.getByRole('button', { name: 'Yes, book this time' }).click();
  await customer.page.getByText('Day booked.').waitFor();
  const booked = Date.now();

  await crew.page.locator('li.offer').nth(before).waitFor({ timeout: 2000 });
  const seenAfter = Date.now() - booked;
  assert.ok(seenAfter <= 2000, `the offer showed after ${seenAfter} ms`);
  assert.equal(await crew.page.evaluate(() => window.notReloaded), true, 'the page was not reloaded');
  await crew.page.locator('li.offer').nth(before).getByText(/Answer within/).waitFor();

  // The crew takes it; the customer's open order page follows without a reload.
  await customer.page.evaluate(() => { window.notReloaded = true; });
  await crew.page.locator('li.offer').nth(before).getByRole('button', { name: 'Accept' }).click();
  await crew.page.getByRole('button', { name: 'Yes, take it' }).click();
  await crew.page.getByText('Accepted: the job is on your list').waitFor();
  await customer.page.locator('.roadmap').getByText('confirmed by the crew').waitFor({ timeout: 3000 });
  assert.equal(await customer.page.evaluate(() => window.notReloaded), true, 'the order page was not reloaded');
  await crew.context.close();

  // The customer tells the crew how to get in, on the home's page.
  const problems = [];
  await customer.page.goto(server.url + '/sites');
  await customer.page.locator('main a[href^="/sites/"]').first().click();
  await customer.page.getByLabel('How the crew gets in').fill('Side gate, code 2207. The dog is friendly.');
  await customer.page.getByRole('button', { name: 'Save the notes' }).click();
  await customer.page.getByText('Saved. The crew reads these notes before it comes.').waitFor();
  problems.push(...(await checkPage(customer.page, 'home-access-notes')));
  await customer.page.goto(server.url + '/offline');
  problems.push(...(await checkPage(customer.page, 'offline')));
  await customer.context.close();
  assert.deepEqual(problems, []);
  assert.deepEqual(pageErrors, []);
});

test('the app warns a minute before the idle deadline, then signs itself out and forgets the jobs', async () => {
  // Crews are held to the staff idle timeout.
  const idle = await startServer({ SUNBRIDGE_STAFF_SESSION_IDLE_SECS: '75' });
  try {
    const accounts = await seedDemo(idle.dataDir);
    const { context, page } = await phone();
    await signIn(page, idle.url, accounts.installer);
    await enrolSecondFactor(page, idle.url, accounts.installer, OTPAuth);
    await page.goto(idle.url + '/installer');
    await controlled(page);
    await page.waitForFunction(() => caches.has('pages'));
    // A minute before the end, a warning that can keep the session…
    await page.getByRole('alertdialog').getByRole('button', { name: 'Stay signed in' }).waitFor({ timeout: 30_000 });
    // …and at the end, without a tap: the sign-in page, and nothing kept.
    await page.waitForURL((url) => url.pathname === '/login', { timeout: 90_000 });
    assert.equal(await page.evaluate(() => caches.has('pages')), false);
    const databases = (await page.evaluate(() => indexedDB.databases())).map((d) => d.name);
    assert.ok(!databases.includes('sunbridge-outbox'));
    await context.close();
  } finally {
    await idle.stop();
  }
});
