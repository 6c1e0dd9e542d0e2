// The phone's outbox: steps, notes and photos recorded without signal, kept in IndexedDB until
// the server has them. Loaded by the pages and by the service worker, so either can send.
// Each item carries its idempotency key inside its form: sending one twice records it once.
(function (scope) {
  'use strict';

  const DB = 'sunbridge-outbox';
  const STORE = 'items';

  function request(r) {
    return new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  }

  function open() {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: 'key' });
    return request(r);
  }

  async function withStore(mode, work) {
    const db = await open();
    try {
      const tx = db.transaction(STORE, mode);
      const done = new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
      const result = await work(tx.objectStore(STORE));
      await done;
      return result;
    } finally {
      db.close();
    }
  }

  /** Keeps a form sent without signal: `entries` are its [name, value] pairs (files too). */
  function add(item) {
    return withStore('readwrite', (s) => request(s.put(Object.assign({ state: 'waiting', created: Date.now() }, item))));
  }

  // Reading must not create the database: after sign-out nothing of the outbox is left.
  async function exists() {
    if (!indexedDB.databases) return true;
    return (await indexedDB.databases()).some((d) => d.name === DB);
  }

  async function list() {
    if (!(await exists())) return [];
    const items = await withStore('readonly', (s) => request(s.getAll()));
    return items.sort((a, b) => a.created - b.created);
  }

  function remove(key) {
    return withStore('readwrite', (s) => request(s.delete(key)));
  }

  function put(item) {
    return withStore('readwrite', (s) => request(s.put(item)));
  }

  /** Drops everything kept on the phone (sign-out, end of the session). */
  function clear() {
    return new Promise((resolve) => {
      const r = indexedDB.deleteDatabase(DB);
      r.onsuccess = r.onerror = r.onblocked = () => resolve();
    });
  }

  const ENTITIES = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&#x27;': "'" };

  /** The sentence a refused form's page shows in its alert, as text. */
  function reasonOf(html, status) {
    const found = /<p class="error" role="alert">([\s\S]*?)<\/p>/.exec(html);
    if (!found) return 'The server refused it (error ' + status + ').';
    return found[1].replace(/<[^>]*>/g, '').replace(/&(amp|lt|gt|quot|#39|#x27);/g, (e) => ENTITIES[e]).trim();
  }

  async function sendAll() {
    const result = { sent: 0, refused: 0, waiting: 0, signedOut: false };
    for (const item of await list()) {
      if (item.state !== 'waiting') continue;
      // Sent the way the page's form was: multipart with a file, URL-encoded without one.
      let body;
      if (item.entries.every(([, value]) => typeof value === 'string')) {
        body = new URLSearchParams(item.entries);
      } else {
        body = new FormData();
        for (const [name, value] of item.entries) body.append(name, value);
      }
      let response;
      try {
        response = await fetch(item.url, { method: 'POST', body, credentials: 'same-origin', headers: { 'X-Outbox': '1' } });
      } catch (e) {
        // Still no signal: keep this one and the rest for the next try.
        result.waiting += 1;
        break;
      }
      if (response.redirected && new URL(response.url).pathname === '/login') {
        // The session is over: nothing more can be sent as this person.
        result.signedOut = true;
        break;
      }
      if (response.ok) {
        await remove(item.key);
        result.sent += 1;
      } else if (response.status >= 500 || response.status === 429) {
        result.waiting += 1;
        break;
      } else {
        // Refused for a reason the crew must see (the job moved, a photo was not an image):
        // kept with the reason until they dismiss it; the rest of the queue goes on.
        item.state = 'refused';
        item.reason = reasonOf(await response.text(), response.status);
        await put(item);
        result.refused += 1;
      }
    }
    return result;
  }

  /** Sends what waits, oldest first, one sender at a time (a page and the worker may both try). */
  function flush() {
    if (scope.navigator && scope.navigator.locks) {
      return scope.navigator.locks.request('sunbridge-outbox', sendAll);
    }
    return sendAll();
  }

  scope.SunbridgeOutbox = { add, list, remove, clear, flush };
})(self);
