// Booking in a real browser: on a demo install (crews, and a sample order at every step), the
// demo customer pays the deposit of a fresh order on the payment page, picks an arrival window
// from the calendar, and the demo installer accepts it in the installer portal; the customer's
// roadmap then shows the confirmed survey and the crew, and the customer moves it to another
// time. Staff move a visit with a reason. No CSP violation on the way.
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
  // Each day lists its arrival windows. A morning a few days out, so that it can still be
  // moved later (customers move a visit until 48 hours before it).
  const day = page.locator('.calendar-day').nth(3);
  const dayLabel = (await day.locator('h3').innerText()).trim();
  await day.getByRole('button', { name: /^Morning 8 am – 12 pm on / }).click();
  await page.getByRole('heading', { name: /^Book your site survey on .*, 8 am – 12 pm\?$/ }).waitFor();
  await page.getByRole('button', { name: 'Yes, book this time' }).click();
  await page.getByText('Day booked.').waitFor();
  await page.locator('.visits').getByText('Waiting for a crew to confirm.').waitFor();
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
  assert.deepEqual(await checkPage(page, 'order-visit-booked'), []);

  // The customer moves the survey to another time: the page asks first and says what happens.
  await page.getByRole('link', { name: 'Change the time of your site survey' }).click();
  await page.getByRole('heading', { name: 'Move your site survey' }).waitFor();
  assert.deepEqual(await checkPage(page, 'order-move'), []);
  const newDay = page.locator('.calendar-day').nth(4);
  const newLabel = (await newDay.locator('h3').innerText()).trim();
  await newDay.getByRole('button', { name: /^Afternoon 12 pm – 4 pm on / }).click();
  await page.getByRole('heading', { name: /^Move your site survey to .*, 12 pm – 4 pm\?$/ }).waitFor();
  await page.getByText('If your crew can come then, it keeps your job.').waitFor();
  await page.getByRole('button', { name: 'Yes, move it' }).click();
  await page.getByText('Moved. The new time is below').waitFor();
  const visit = page.locator('.visits li').first();
  assert.match(await visit.innerText(), /Site survey: .*12 pm – 4 pm/);
  assert.ok(newLabel !== dayLabel);
  await page.locator('.roadmap').getByText(/arriving 12 pm – 4 pm, confirmed by the crew/).waitFor();
  assert.deepEqual(await chrome.violations(), []);

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
  // Staff move a confirmed visit: a reason is required, and the customer reads it.
  await admin.page.goto(server.url + '/staff/jobs?state=survey_scheduled');
  await admin.page.locator('main a[href^="/jobs/"]').first().click();
  await admin.page.getByRole('link', { name: 'Move the site survey' }).click();
  await admin.page.getByRole('heading', { name: 'Move the site survey' }).waitFor();
  problems.push(...(await checkPage(admin.page, 'staff-move')));
  // A reason too short: the server says so beside it and keeps what was typed.
  await admin.page.getByLabel('New time').selectOption({ index: 2 });
  await admin.page.getByLabel(/^Reason/).fill('short');
  await admin.page.getByRole('button', { name: 'Move the site survey' }).click();
  assert.match(await admin.page.locator('.error-summary h2').innerText(), /There is a problem with the move/);
  assert.equal(await admin.page.getByLabel(/^Reason/).inputValue(), 'short');
  problems.push(...(await checkPage(admin.page, 'staff-move-problems')));
  await admin.page.getByLabel(/^Reason/).fill('The crew is short of one installer that day.');
  await admin.page.getByRole('button', { name: 'Move the site survey' }).click();
  await admin.page.getByText('Moved. The customer and the crew are told.').waitFor();
  await admin.page.locator('.timeline').getByText('Reason: The crew is short of one installer that day.').waitFor();
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
