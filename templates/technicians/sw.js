// The technician's phone offline: the page and its scripts from a cache, the day's data from
// the network when it answers (and kept for when it does not). Actions never go through here:
// the page's outbox (IndexedDB) queues them and replays them itself.
"use strict";
const CACHE = "phone-{{ version }}";
const SHELL = {{ shell|safe }};
const DAY_API = "{{ day_api }}";
const NETWORK_WAIT_MS = 4000; // a basement's network that never answers counts as none

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name.startsWith("phone-") && name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

function timeout(ms) {
  return new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), ms));
}

async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  try {
    const response = await Promise.race([fetch(request), timeout(NETWORK_WAIT_MS)]);
    if (response.ok) cache.put(key, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(key);
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== location.origin) return;
  if (request.mode === "navigate" && url.pathname === SHELL[0]) {
    event.respondWith(networkFirst(request, SHELL[0]));
  } else if (url.pathname === DAY_API) {
    event.respondWith(networkFirst(request, DAY_API));
  } else if (SHELL.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(request)));
  }
});
