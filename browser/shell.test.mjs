// The web shell in a real browser: pages load, links work, and the CSP holds (no inline
// script or style anywhere, so the console shows no violation).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startBrowser } from './harness.mjs';

let server;
let chrome;

before(async () => {
  server = await startServer();
  chrome = await startBrowser();
});

after(async () => {
  await chrome?.browser.close();
  await server?.stop();
});

test('the landing page loads, links to the FAQ, and causes no CSP violation', async () => {
  const { page } = chrome;
  const response = await page.goto(server.url + '/');
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-security-policy'], /script-src 'self'/);
  assert.equal(await page.locator('h1').textContent(), 'Solar sized from your real electricity bills');
  // The stylesheet applied (a blocked stylesheet would leave the default layout).
  const headerBackground = await page.locator('.site-header').evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.notEqual(headerBackground, 'rgba(0, 0, 0, 0)');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'FAQ' }).click();
  await page.waitForURL(server.url + '/faq');
  assert.equal(await page.locator('h1').textContent(), 'Questions and answers');
  await page.locator('summary').first().click();
  assert.equal(await page.locator('details').first().getAttribute('open'), '');
  assert.deepEqual(await chrome.violations(), []);
});

test('the violation detector sees an inline style being blocked (positive control)', async () => {
  const { page } = chrome;
  await page.goto(server.url + '/faq');
  await page.evaluate(() => {
    const style = document.createElement('style');
    style.textContent = 'body { color: red }';
    document.head.appendChild(style);
  });
  await page.waitForTimeout(200);
  const seen = await chrome.violations();
  assert.ok(seen.some((v) => /style-src/.test(v)), `expected a style-src violation, saw ${JSON.stringify(seen)}`);
});

test('the error page renders in the same layout without violations', async () => {
  const fresh = await startBrowser();
  try {
    const response = await fresh.page.goto(server.url + '/no/such/page');
    assert.equal(response.status(), 404);
    assert.equal(await fresh.page.locator('h1').textContent(), 'Page not found');
    assert.deepEqual(await fresh.violations(), []);
  } finally {
    await fresh.browser.close();
  }
});
