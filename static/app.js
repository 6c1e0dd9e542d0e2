// The app around the pages: installs the service worker, keeps the crew's next days on the
// phone, shows what waits to be sent and sends it when the signal returns, and ends the
// session on the phone when it ends on the server (idle or absolute), warning a minute before.
(function () {
  'use strict';

  const outbox = self.SunbridgeOutbox;
  const worker = 'serviceWorker' in navigator ? navigator.serviceWorker : null;

  // ---- What is kept on the phone, and dropping it --------------------------------------
  async function forgetEverything() {
    try {
      localStorage.removeItem('sunbridge-deadlines');
    } catch (e) {
      /* storage may be off */
    }
    // The worker first, so that nothing it is still fetching is kept after this.
    if (worker && worker.controller) {
      await new Promise((resolve) => {
        const channel = new MessageChannel();
        channel.port1.onmessage = () => resolve();
        worker.controller.postMessage({ type: 'forget' }, [channel.port2]);
        setTimeout(resolve, 2000);
      });
    }
    const keys = 'caches' in self ? await caches.keys() : [];
    await Promise.all(keys.filter((k) => k === 'pages').map((k) => caches.delete(k)));
    await outbox.clear();
    // No more notifications to this phone for this person (the server also forgets the
    // subscription with the session).
    if (worker) {
      const registration = await worker.getRegistration();
      const subscription = registration && registration.pushManager ? await registration.pushManager.getSubscription() : null;
      if (subscription) await subscription.unsubscribe().catch(() => {});
    }
  }

  // Signing out drops the kept pages and the outbox before the server forgets the session.
  document.querySelectorAll('form[action="/logout"]').forEach((form) => {
    form.addEventListener('submit', (event) => {
      if (form.dataset.forgotten) return;
      event.preventDefault();
      forgetEverything().finally(() => {
        form.dataset.forgotten = '1';
        form.submit();
      });
    });
  });

  if (worker) {
    worker.register('/sw.js', { scope: '/' }).catch(() => {});
  }

  // ---- Forms sent from the phone: a fresh idempotency key each time ---------------------
  document.querySelectorAll('form[data-queue]').forEach((form) => {
    form.addEventListener('submit', (event) => {
      const key = form.querySelector('input[name="idempotency_key"]');
      if (key) key.value = self.crypto.randomUUID();
      let label = form.querySelector('input[name="queue_label"]');
      if (!label) {
        label = document.createElement('input');
        label.type = 'hidden';
        label.name = 'queue_label';
        form.appendChild(label);
      }
      const subject = form.querySelector('select[name="subject"]');
      label.value = subject
        ? 'Photo: ' + subject.options[subject.selectedIndex].text
        : (event.submitter && event.submitter.textContent.trim()) || 'A step';
    });
  });

  // ---- The outbox on screen ------------------------------------------------------------
  const list = document.querySelector('[data-queue-list]');
  async function showOutbox() {
    if (!list) return;
    const here = location.pathname;
    const items = (await outbox.list()).filter((i) => here === '/installer' || i.url.startsWith(here));
    const ul = list.querySelector('ul');
    ul.replaceChildren();
    for (const item of items) {
      const li = document.createElement('li');
      if (item.state === 'refused') {
        li.className = 'refused';
        li.textContent = item.label + ': not recorded. ' + item.reason + ' ';
        const dismiss = document.createElement('button');
        dismiss.type = 'button';
        dismiss.className = 'link-button';
        dismiss.textContent = 'Dismiss';
        dismiss.addEventListener('click', () => outbox.remove(item.key).then(showOutbox));
        li.appendChild(dismiss);
      } else {
        li.textContent = item.label + ': waiting to send';
      }
      ul.appendChild(li);
    }
    list.hidden = items.length === 0;
    revealSteps(items);
  }

  // A step that waits only for photos shows once the phone holds them, sent or waiting.
  function revealSteps(items) {
    const waiting = new Set(
      items
        .filter((i) => i.state === 'waiting')
        .map((i) => (i.entries.find(([name]) => name === 'subject') || [])[1])
        .filter(Boolean),
    );
    for (const li of document.querySelectorAll('.checklist li[data-subject]')) {
      if (waiting.has(li.dataset.subject)) {
        li.classList.add('queued');
        li.querySelector('.visually-hidden').textContent = '(waiting to send)';
      }
    }
    // The phone's own date (a crew works where the home is): a step booked for a day opens on
    // that day even on a page kept from the evening before.
    const now = new Date();
    const pad = (n) => String(n).padStart(2, '0');
    const today = now.getFullYear() + '-' + pad(now.getMonth() + 1) + '-' + pad(now.getDate());
    for (const button of document.querySelectorAll('button[data-requires]')) {
      const missing = button.dataset.requires.split(' ').filter((s) => s && !waiting.has(s));
      const dayCome = !button.dataset.from || button.dataset.from <= today;
      if (missing.length === 0 && dayCome) {
        button.hidden = false;
        button.closest('section').hidden = false;
        const why = document.getElementById('why-not');
        if (why) why.hidden = true;
      }
    }
  }

  async function send() {
    if (!navigator.onLine) return;
    const result = await outbox.flush();
    if (result.sent > 0) {
      // The page shows the job as it was: load it again with what was recorded.
      location.replace(location.pathname);
      return;
    }
    await showOutbox();
  }

  if (new URLSearchParams(location.search).has('queued')) {
    const note = document.createElement('p');
    note.className = 'notice';
    note.setAttribute('role', 'status');
    note.textContent = 'No signal: saved on this phone. It is sent as soon as the signal returns.';
    const main = document.querySelector('main');
    main.insertBefore(note, main.querySelector('h1').nextSibling);
  }
  showOutbox().then(send);
  addEventListener('online', send);
  if (worker) {
    worker.addEventListener('message', (event) => {
      if (event.data && event.data.type === 'outbox') {
        if (event.data.result.sent > 0) location.replace(location.pathname);
        else showOutbox();
      }
    });
  }

  // ---- Offline notice and the crew's next days ------------------------------------------
  const offlineNote = document.querySelector('[data-offline-note]');
  function signal() {
    if (offlineNote) offlineNote.hidden = navigator.onLine;
  }
  addEventListener('online', signal);
  addEventListener('offline', signal);
  signal();

  if (location.pathname === '/installer' && navigator.onLine && worker) {
    const paths = ['/installer'].concat(
      [...document.querySelectorAll('.day-plan a.card-target')].map((a) => new URL(a.href).pathname),
    );
    worker.ready.then((registration) => registration.active && registration.active.postMessage({ type: 'keep', paths }));
  }

  // ---- Live regions: new offers, a job's new step, without a reload ------------------------
  // The server streams a change; the page fetches itself in the background (which is not
  // activity: it does not hold the session open) and swaps the regions marked `data-live`.
  async function refreshRegions() {
    const response = await fetch(location.pathname, { credentials: 'same-origin', headers: { 'X-Background': '1' } });
    if (!response.ok || response.redirected) return;
    const fresh = new DOMParser().parseFromString(await response.text(), 'text/html');
    for (const region of document.querySelectorAll('[data-live]')) {
      const next = fresh.querySelector('[data-live="' + region.dataset.live + '"]');
      if (next) region.replaceWith(document.adoptNode(next));
    }
    tick();
  }
  const liveSource = document.querySelector('[data-live-source]');
  let stream = null;
  function listen() {
    if (!liveSource || !('EventSource' in self) || (stream && stream.readyState !== EventSource.CLOSED)) return;
    stream = new EventSource(liveSource.dataset.liveSource);
    let first = true;
    const changed = () => {
      // The first event is the state when the stream opened: refresh only if the page is older.
      if (first) {
        first = false;
        if (Date.now() - loadedAt < 3000) return;
      }
      refreshRegions().catch(() => {});
    };
    stream.addEventListener('offers', changed);
    stream.addEventListener('job', changed);
    stream.addEventListener('end', (event) => {
      stream.close();
      // Signed out elsewhere (a lost phone's session ended from another device): nothing of
      // the person stays here.
      if (event.data === 'signed_out') {
        document.querySelector('main').replaceChildren();
        forgetEverything().finally(() => location.replace('/login'));
      }
    });
    // No automatic reconnection: a reconnect counts as activity. The page listens again when the
    // person comes back to it or the signal returns.
    stream.onerror = () => stream.close();
  }
  const loadedAt = Date.now();
  listen();
  addEventListener('online', listen);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') listen();
  });

  // ---- Notifications on this phone ----------------------------------------------------------
  const pushControl = document.querySelector('[data-push]');
  function base64url(text) {
    const bytes = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(bytes, (c) => c.charCodeAt(0));
  }
  function encoded(buffer) {
    return btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  // Sends the phone's subscription to the server; answers whether it was taken.
  async function register(subscription) {
    const csrf = document.querySelector('input[name="csrf"]');
    const form = new URLSearchParams({
      csrf: csrf ? csrf.value : '',
      endpoint: subscription.endpoint,
      p256dh: encoded(subscription.getKey('p256dh')),
      auth: encoded(subscription.getKey('auth')),
      device: (navigator.userAgentData && navigator.userAgentData.platform) || 'This phone',
    });
    const saved = await fetch('/push/subscriptions', {
      method: 'POST',
      body: form,
      credentials: 'same-origin',
      headers: { 'X-Background': '1' },
    }).catch(() => null);
    return Boolean(saved && saved.ok);
  }

  async function showPush() {
    if (!pushControl || !worker || !('PushManager' in self) || Notification.permission === 'denied') return;
    const registration = await worker.ready;
    const status = pushControl.querySelector('[role="status"]');
    const button = pushControl.querySelector('button');
    pushControl.hidden = false;
    const existing = await registration.pushManager.getSubscription();
    if (existing) {
      // The server forgets a subscription with its session: tell it again on each visit (the
      // same endpoint replaces the earlier one).
      if (await register(existing)) {
        button.hidden = true;
        status.textContent = 'Notifications are on for this phone.';
        return;
      }
      await existing.unsubscribe().catch(() => {});
    }
    button.addEventListener('click', async () => {
      try {
        if ((await Notification.requestPermission()) !== 'granted') {
          status.textContent = 'Notifications are off: the phone did not allow them.';
          return;
        }
        const key = await (await fetch('/api/v1/push/key')).json();
        const subscription = await registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: base64url(key.public_key),
        });
        if (!(await register(subscription))) {
          await subscription.unsubscribe().catch(() => {});
          throw new Error('refused');
        }
        button.hidden = true;
        status.textContent = 'Notifications are on for this phone.';
      } catch (e) {
        status.textContent = 'Notifications could not be turned on here. Try again with signal.';
      }
    });
  }
  showPush().catch(() => {});

  // ---- Moments in the reader's own time ---------------------------------------------------
  // Pages without a home to take a time zone from (the account's devices, the back office)
  // write moments in UTC, named; the device shows them in its own zone, named too, with UTC
  // kept in the title.
  function localTimes(root) {
    const format = new Intl.DateTimeFormat(undefined, {
      weekday: 'short', day: 'numeric', month: 'short', year: 'numeric',
      hour: 'numeric', minute: '2-digit', timeZoneName: 'short',
    });
    root.querySelectorAll('time[data-local]').forEach((t) => {
      const at = Date.parse(t.getAttribute('datetime'));
      if (Number.isNaN(at)) return;
      if (!t.title) t.title = t.textContent.trim();
      t.textContent = format.format(new Date(at));
    });
  }
  localTimes(document);

  // ---- Offer countdowns -------------------------------------------------------------------
  function left(ms) {
    const minutes = Math.floor(ms / 60000);
    if (minutes < 1) return 'under a minute';
    if (minutes < 60) return minutes + ' min';
    return Math.floor(minutes / 60) + ' h' + (minutes % 60 ? ' ' + (minutes % 60) + ' min' : '');
  }
  function tick() {
    document.querySelectorAll('time[data-countdown]').forEach((t) => {
      const ms = Date.parse(t.getAttribute('datetime')) - Date.now();
      t.textContent = ms > 0 ? left(ms) : 'no time: it has gone to another crew';
    });
  }
  if (document.querySelector('time[data-countdown]') || liveSource) setInterval(tick, 15000);

  // ---- The session's deadlines ------------------------------------------------------------
  const idleMeta = document.querySelector('meta[name="session-idle-deadline"]');
  const absoluteMeta = document.querySelector('meta[name="session-absolute-deadline"]');
  if (!idleMeta || !absoluteMeta) {
    // Signed out (the session ended while the app was closed, say): whatever the phone kept
    // for the person goes. Not on the offline page, which the worker shows in place of any
    // page it did not keep, signed in or out, and which must leave the kept ones and the
    // queue alone.
    if (document.querySelector('[data-offline-page]')) return;
    const kept = 'caches' in self ? caches.has('pages') : Promise.resolve(false);
    kept.then(async (has) => {
      const queued = (await outbox.list()).length > 0;
      if (has || queued || localStorage.getItem('sunbridge-deadlines')) await forgetEverything();
    }).catch(() => {});
    return;
  }
  const WARN_MS = 60 * 1000;
  // A page kept offline may be older than the last page seen: the latest deadline known wins.
  function known() {
    let stored = {};
    try {
      stored = JSON.parse(localStorage.getItem('sunbridge-deadlines') || '{}');
    } catch (e) {
      stored = {};
    }
    return {
      idle: Math.max(Date.parse(idleMeta.content), stored.idle || 0),
      absolute: Math.max(Date.parse(absoluteMeta.content), stored.absolute || 0),
    };
  }
  let deadlines = known();
  function remember() {
    try {
      localStorage.setItem('sunbridge-deadlines', JSON.stringify(deadlines));
    } catch (e) {
      /* storage may be off */
    }
  }
  remember();

  let warning = null;
  function warn(until) {
    if (warning) return;
    warning = document.createElement('div');
    warning.className = 'session-warning';
    warning.setAttribute('role', 'alertdialog');
    warning.setAttribute('aria-labelledby', 'session-warning-text');
    const text = document.createElement('p');
    text.id = 'session-warning-text';
    text.textContent = until === 'idle'
      ? 'You will be signed out in a minute because nothing happened for a while.'
      : 'Your session ends in a minute; sign in again to carry on.';
    warning.appendChild(text);
    if (until === 'idle') {
      const stay = document.createElement('button');
      stay.type = 'button';
      stay.className = 'button';
      stay.textContent = 'Stay signed in';
      stay.addEventListener('click', stayAlive);
      warning.appendChild(stay);
    }
    document.body.appendChild(warning);
    const button = warning.querySelector('button');
    if (button) button.focus();
  }

  async function stayAlive() {
    try {
      const response = await fetch('/session', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      if (response.ok && response.headers.get('content-type').startsWith('application/json')) {
        const fresh = await response.json();
        deadlines = { idle: Date.parse(fresh.idle_deadline), absolute: Date.parse(fresh.absolute_deadline) };
        remember();
        if (warning) warning.remove();
        warning = null;
      }
    } catch (e) {
      /* no signal: the deadline stands */
    }
  }

  let ended = false;
  function check() {
    if (ended) return;
    const now = Date.now();
    const end = Math.min(deadlines.idle, deadlines.absolute);
    if (now >= end) {
      ended = true;
      // Clear the screen first, then what the phone keeps, then show sign-in.
      document.querySelector('main').replaceChildren();
      forgetEverything().finally(() => location.replace('/login'));
    } else if (end - now <= WARN_MS) {
      warn(deadlines.idle <= deadlines.absolute ? 'idle' : 'absolute');
    }
  }
  check();
  setInterval(check, 1000);
  document.addEventListener('visibilitychange', check);
})();
