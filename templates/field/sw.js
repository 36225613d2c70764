/*
 * Service worker of the field pages (scope {{ url_for('field.index') }}): keeps the entry
 * pages and their assets so that interviews can be entered with the network off. Pages are
 * fetched network-first (fresh when online, the kept copy when offline); static assets
 * cache-first. API calls are never cached: the page's outbox (IndexedDB) sends them.
 */
"use strict";
// Static assets in a cache named by their digest (a release with changed files is a new
// worker, which drops the old assets' cache); pages in a cache of their own, kept across
// releases, so that entry pages kept for offline work survive an update.
var PREFIX = "surveyapp-field-";
var STATIC = PREFIX + "static-{{ version }}";
var PAGES = PREFIX + "pages";
var ASSETS = [
{%- for name in assets %}
  "{{ url_for('static', filename=name) }}"{{ "," if not loop.last }}
{%- endfor %}
];
var SCOPE = "{{ url_for('field.index') }}";

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(STATIC).then(function (cache) { return cache.addAll(ASSETS); })
    .then(function () { return caches.open(PAGES); })
    .then(function (cache) { return cache.add(SCOPE); })
    .then(function () { return self.skipWaiting(); }));
});

// Drop the caches of earlier releases; pages kept in an older layout's cache move to PAGES.
self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf(PREFIX) === 0 && name !== STATIC && name !== PAGES;
    }).map(function (name) {
      return caches.open(name).then(function (old) {
        return old.keys().then(function (requests) {
          return caches.open(PAGES).then(function (pages) {
            return Promise.all(requests.filter(function (r) {
              return new URL(r.url).pathname.indexOf("/static/") !== 0;
            }).map(function (r) {
              return pages.match(r).then(function (have) {
                return have ? null : old.match(r).then(function (hit) { return hit && pages.put(r, hit); });
              });
            }));
          });
        });
      }).then(function () { return caches.delete(name); });
    }));
  }).then(function () { return self.clients.claim(); }));
});

// The list page asks for every entry page of its assignments to be kept.
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "keep" || !Array.isArray(data.urls)) { return; }
  event.waitUntil(caches.open(PAGES).then(function (cache) {
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
        caches.open(PAGES).then(function (cache) { cache.put(url.pathname, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(url.pathname).then(function (hit) {
        return hit || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
      });
    }));
  }
});
