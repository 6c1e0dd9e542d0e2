// The service worker. The server serves it at /sw.js with two lines before this file:
// `VERSION` (the build) and `ASSETS` (the hashed URLs of the styles, scripts, icons and the
// offline page), and `OUTBOX` (the outbox script's URL).
/* global VERSION, ASSETS, OUTBOX, SunbridgeOutbox */
'use strict';

importScripts(OUTBOX);

const STATIC = 'static-' + VERSION;
// Pages of the crew's next days, kept for working without signal; dropped at sign-out.
const PAGES = 'pages';
// Forms that are kept and sent later when there is no signal.
const QUEUED = /^\/jobs\/[0-9a-f-]{36}\/(step|photos)$/;
// Pages worth keeping for a crew without signal; the server marks them (`X-Keep-Offline`) only
// for the crew itself, so a job page seen by staff is never kept.
const KEPT = /^\/(installer|jobs\/[0-9a-f-]{36})$/;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(STATIC).then((c) => c.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('static-') && k !== STATIC).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// Counts the times the phone was told to forget: a page fetched before the last time is not
// kept after it (a sign-out while the next days were still being fetched).
let epoch = 0;

async function keep(path, response, since) {
  if (response.ok && response.type === 'basic' && !response.redirected && response.headers.get('x-keep-offline') === '1') {
    const cache = await caches.open(PAGES);
    if (since !== epoch) return;
    await cache.put(path, response);
  }
}

/** A page: from the network, kept if it is one a crew needs offline; without signal, the kept copy. */
async function page(request) {
  const url = new URL(request.url);
  const since = epoch;
  try {
    const response = await fetch(request);
    if (KEPT.test(url.pathname)) await keep(url.pathname, response.clone(), since);
    return response;
  } catch (e) {
    const kept = await caches.match(url.pathname, { cacheName: PAGES });
    return kept || (await caches.match('/offline', { cacheName: STATIC })) || Response.error();
  }
}

/** A step or a photo: sent now, or kept in the outbox when the signal is gone. */
async function sendOrKeep(request) {
  const copy = request.clone();
  try {
    return await fetch(request);
  } catch (e) {
    const url = new URL(request.url);
    const form = await copy.formData();
    // Without the app's key (its script had not run), one is made here: a replay must be
    // recognisable whatever happens.
    if (!form.get('idempotency_key')) form.set('idempotency_key', self.crypto.randomUUID());
    const entries = [...form.entries()];
    const key = form.get('idempotency_key');
    await SunbridgeOutbox.add({ key, url: url.pathname, label: form.get('queue_label') || 'A change', entries });
    if (self.registration.sync) {
      await self.registration.sync.register('outbox').catch(() => {});
    }
    const job = url.pathname.replace(/\/(step|photos)$/, '');
    return Response.redirect(job + '?queued=1', 303);
  }
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === 'POST' && QUEUED.test(url.pathname)) {
    // The outbox's own sends go straight to the network: a failure keeps the item where it
    // is, in its place in the queue, instead of queueing it again.
    if (request.headers.has('x-outbox')) return;
    event.respondWith(sendOrKeep(request));
  } else if (request.method === 'GET' && request.mode === 'navigate') {
    event.respondWith(page(request));
  } else if (request.method === 'GET' && url.pathname.startsWith('/static/')) {
    event.respondWith(caches.match(request, { cacheName: STATIC }).then((hit) => hit || fetch(request)));
  }
});

async function tellPages(message) {
  for (const client of await self.clients.matchAll({ type: 'window' })) client.postMessage(message);
}

self.addEventListener('sync', (event) => {
  if (event.tag === 'outbox') {
    event.waitUntil(SunbridgeOutbox.flush().then((result) => tellPages({ type: 'outbox', result })));
  }
});

self.addEventListener('message', (event) => {
  const data = event.data || {};
  if (data.type === 'keep' && Array.isArray(data.paths)) {
    // The crew's next days: fetched and kept now, while there is signal.
    const since = epoch;
    event.waitUntil(
      Promise.all(
        data.paths
          .filter((p) => KEPT.test(p))
          .map((p) => fetch(p, { credentials: 'same-origin' }).then((r) => keep(p, r, since)).catch(() => {})),
      ),
    );
  } else if (data.type === 'forget') {
    epoch += 1;
    const done = Promise.all([caches.delete(PAGES), SunbridgeOutbox.clear()]).then(() => {
      if (event.ports[0]) event.ports[0].postMessage('forgotten');
    });
    event.waitUntil(done);
  }
});

// A push: the notification as the server wrote it (only what a lock screen may show).
self.addEventListener('push', (event) => {
  let notice = { title: 'Sunbridge', body: '', url: '/start' };
  try {
    notice = Object.assign(notice, event.data ? event.data.json() : {});
  } catch (e) {
    /* a push without a readable body still says something happened */
  }
  event.waitUntil(
    self.registration.showNotification(notice.title, {
      body: notice.body,
      data: { url: notice.url },
      icon: ASSETS.find((a) => /icon-192\./.test(a)),
      tag: notice.url,
    }),
  );
});

// Tapping it opens the page it names, in the app's window if one is open.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const path = (event.notification.data && event.notification.data.url) || '/start';
  const target = new URL(path, self.location.origin);
  if (target.origin !== self.location.origin) return;
  event.waitUntil(
    self.clients.matchAll({ type: 'window' }).then((windows) => {
      const open = windows.find((w) => 'focus' in w);
      if (open) return open.navigate(target.href).then((w) => (w || open).focus());
      return self.clients.openWindow(target.href);
    }),
  );
});
