// Booking in a real browser: on a demo install (crews, and a sample order at every step), the
// demo customer pays the deposit of a fresh order on the payment page, picks the first free
// day from the calendar, and the demo installer accepts it in the installer portal; the
// customer's roadmap then shows the confirmed survey and the crew. No CSP violation on the way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import { startServer, startBrowser, checkPage, seedDemo, signIn as signInAs, enrolSecondFactor } from './harness.mjs';

let server;
let chrome;
let passwords;
// Authenticator secrets of accounts that turned the second factor on, by email.
const totps = {};

before(async () => {
  server = await startServer();
  passwords = await seedDemo(server.dataDir);
  chrome = await startBrowser();
});

after(async () => {
  await chrome?.browser.close();
  await server?.stop();
});

function signIn(page, who) {
  return signInAs(page, server.url, who, totps[who.email]);
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
  totps[passwords.installer.email] = await enrolSecondFactor(phone, server.url, passwords.installer, OTPAuth);
  await phone.goto(server.url + '/installer');
  const offer = phone.locator('li.offer').filter({ hasText: 'Site survey · ' });
  await offer.first().waitFor();
  await offer.first().getByRole('button', { name: 'Accept' }).click();
  // One tap, then a yes.
  await phone.getByRole('button', { name: 'Yes, take it' }).click();
  await phone.getByText('Accepted: the job is on your list').waitFor();
  await context.close();

  // The customer's roadmap shows the confirmed day and the crew.
  await page.goto(orderUrl);
  await page.locator('.roadmap').getByText('Site survey scheduled').waitFor();
  await page.locator('.roadmap').getByText('confirmed by the crew').waitFor();
  await page.locator('.counts').getByText('your crew').waitFor();
  assert.ok(dayLabel.length > 0);

  // A switched-on order: the customer rates the crew, with a comment, and sees it kept.
  await page.goto(server.url + '/orders');
  await page.locator('li.card-link').filter({ hasText: 'System switched on' }).first().getByRole('link').click();
  await page.getByRole('heading', { name: /^How did .* do\?$/ }).waitFor();
  await page.getByLabel('4 stars: good').check();
  await page.getByLabel(/What went well/).fill('On time, tidy, and they explained the app.');
  await page.getByRole('button', { name: 'Save my rating' }).click();
  await page.getByText('Your rating is saved').waitFor();
  await page.getByText('You gave 4 of 5 stars').waitFor();
  assert.deepEqual(await checkPage(page, 'order-rated'), []);
  assert.deepEqual(await chrome.violations(), []);
});

// Signs `who` in on a fresh page and turns on the second factor staff and crews must have.
async function signInEnrolled(who) {
  const context = await chrome.browser.newContext();
  const page = await context.newPage();
  await signIn(page, who);
  if (totps[who.email]) return { context, page };
  totps[who.email] = await enrolSecondFactor(page, server.url, who, OTPAuth);
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
  // A crew form sent with mistakes: every problem at the top and beside its field, as typed.
  await admin.page.getByLabel(/Serves within/).fill('900');
  await admin.page.getByLabel(/Jobs a day/).fill('two');
  await admin.page.getByRole('button', { name: 'Save', exact: true }).click();
  assert.match(await admin.page.locator('.error-summary h2').innerText(), /There are 2 problems with the crew/);
  assert.equal(await admin.page.getByLabel(/Serves within/).inputValue(), '900');
  // The summary's links lead to the fields.
  await admin.page.locator('.error-summary a[href="#capacity"]').click();
  assert.equal(await admin.page.evaluate(() => document.activeElement.id), 'capacity');
  problems.push(...(await checkPage(admin.page, 'admin-crew-problems')));
  // A new panel sent empty, on the catalog page: its panel opens with every problem.
  await admin.page.goto(server.url + '/admin/catalog');
  await admin.page.locator('summary', { hasText: 'Add a panel' }).click();
  await admin.page.getByRole('button', { name: 'Add panel' }).click();
  assert.match(await admin.page.locator('.error-summary h2').innerText(), /There are \d+ problems with the panel/);
  problems.push(...(await checkPage(admin.page, 'admin-catalog-problems')));
  // Moments on the back office's pages show in the reader's own zone, named; UTC in the title.
  const cdp = await admin.context.newCDPSession(admin.page);
  await cdp.send('Emulation.setTimezoneOverride', { timezoneId: 'America/Chicago' });
  await admin.page.goto(server.url + '/staff/jobs');
  const changed = admin.page.locator('time[data-local]').first();
  assert.match(await changed.innerText(), /C[SD]T/);
  assert.match(await changed.getAttribute('title'), /UTC$/);
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
  await visit(crew.page, '/installer', 'installer-today');
  await crew.page.locator('main a[href^="/jobs/"]').first().click();
  problems.push(...(await checkPage(crew.page, 'installer-job')));
  await crew.context.close();

  assert.deepEqual(problems, []);
  assert.deepEqual(await chrome.violations(), []);
});
