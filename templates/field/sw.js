/*
 * Service worker of the field pages (scope {{ url_for('field.index') }}): keeps the entry
 * pages and their assets so that interviews can be entered with the network off. Pages are
 * fetched network-first (fresh when online, the kept copy when offline); static assets
 * cache-first. API calls are never cached: the page's outbox (IndexedDB) sends them.
 */
"use strict";
var CACHE = "surveyapp-field-v1";
var ASSETS = [
  "{{ url_for('static', filename='vendor/bootstrap/bootstrap.min.css') }}",
  "{{ url_for('static', filename='css/app.css') }}",
  "{{ url_for('static', filename='vendor/bootstrap/bootstrap.bundle.min.js') }}",
  "{{ url_for('static', filename='js/app.js') }}",
  "{{ url_for('static', filename='js/expressions.js') }}",
  "{{ url_for('static', filename='js/field_offline.js') }}",
  "{{ url_for('static', filename='js/form_engine.js') }}",
  "{{ url_for('static', filename='js/field_entry.js') }}",
  "{{ url_for('static', filename='favicon.svg') }}",
  "{{ url_for('field.index') }}"
];
var SCOPE = "{{ url_for('field.index') }}";

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(ASSETS); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

// The list page asks for every entry page of its assignments to be kept.
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "keep" || !Array.isArray(data.urls)) { return; }
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(data.urls.map(function (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (response.ok && !response.redirected) { return cache.put(url, response); }
      }).catch(function () { return null; });
    }));
  }).then(function () {
    if (event.source) { event.source.postMessage({ type: "kept", count: data.urls.length }); }
  }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request, { ignoreSearch: true }).then(function (hit) {
      return hit || fetch(request);
    }));
    return;
  }
  if (url.pathname.indexOf(SCOPE) === 0 && url.pathname !== SCOPE + "sw.js") {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok && !response.redirected) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(url.pathname, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(url.pathname).then(function (hit) {
        return hit || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
      });
    }));
  }
});
