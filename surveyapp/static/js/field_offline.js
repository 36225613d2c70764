/*
 * Field pages offline: drafts and the outbox in IndexedDB, sending when the connection
 * returns, the count of what is waiting, and a warning before anything could be lost.
 *
 * Rules: an interview leaves the device only through the outbox; an outbox item is deleted
 * only after the server's receipt quotes its UUID (201/200 {"uuid", "receipt"}). A refused
 * item (409 conflict, 422 invalid) stays on the device with the server's message.
 * Settings come from <div id="field-config" data-…> (the CSP allows no inline scripts).
 */
(function () {
  "use strict";
  var cfg = document.getElementById("field-config");
  if (!cfg || !window.indexedDB) { return; }
  var DB_NAME = "surveyapp-field";
  var csrf = cfg.getAttribute("data-csrf");
  var lang = document.documentElement.getAttribute("lang") || "vi";
  var safeNavigation = false;
  var dbPromise = null;

  function msg(key, values) {
    var text = cfg.getAttribute("data-msg-" + key) || "";
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(values[k])); });
    return text;
  }

  function openDb() {
    if (dbPromise) { return dbPromise; }
    dbPromise = new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains("drafts")) { db.createObjectStore("drafts", { keyPath: "key" }); }
        if (!db.objectStoreNames.contains("outbox")) { db.createObjectStore("outbox", { keyPath: "uuid" }); }
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
    return dbPromise;
  }

  // Run fn(stores...) in one transaction; resolves with fn's result once it has committed.
  function inTransaction(names, mode, fn) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(names, mode);
        var result;
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
        result = fn.apply(null, names.map(function (n) { return tx.objectStore(n); }));
      });
    });
  }

  function requestValue(request) {
    var box = { value: undefined };
    request.onsuccess = function () { box.value = request.result; };
    return box;
  }

  var store = {
    getDraft: function (key) {
      var box;
      return inTransaction(["drafts"], "readonly", function (drafts) { box = requestValue(drafts.get(key)); })
        .then(function () { return box.value || null; });
    },
    putDraft: function (draft) {
      return inTransaction(["drafts"], "readwrite", function (drafts) { drafts.put(draft); });
    },
    // The draft becomes an outbox item in one transaction: never both gone, never both kept.
    queue: function (draftKey, item) {
      return inTransaction(["drafts", "outbox"], "readwrite", function (drafts, outbox) {
        outbox.put(item);
        drafts.delete(draftKey);
      });
    },
    outbox: function () {
      var box;
      return inTransaction(["outbox"], "readonly", function (outbox) { box = requestValue(outbox.getAll()); })
        .then(function () { return box.value || []; });
    },
    update: function (item) {
      return inTransaction(["outbox"], "readwrite", function (outbox) { outbox.put(item); });
    },
    remove: function (uuid) {
      return inTransaction(["outbox"], "readwrite", function (outbox) { outbox.delete(uuid); });
    }
  };

  var waiting = 0;
  function render(items) {
    waiting = items.length;
    var counter = document.querySelector('[data-role="outbox-count"]');
    if (counter) {
      counter.textContent = waiting ? msg("waiting", { n: waiting }) : msg("all-sent");
      counter.setAttribute("data-count", String(waiting));
      counter.classList.toggle("fw-bold", waiting > 0);
    }
    var list = document.querySelector('[data-role="outbox-problems"]');
    if (list) {
      list.innerHTML = "";
      items.filter(function (it) { return it.problem; }).forEach(function (it) {
        var li = document.createElement("li");
        li.className = "text-danger";
        li.textContent = it.label + ": " + it.problem;
        list.appendChild(li);
      });
    }
    var offline = document.querySelector('[data-role="offline"]');
    if (offline) { offline.hidden = navigator.onLine; }
  }

  function refresh() { return store.outbox().then(render); }

  function freshCsrf() {
    return fetch(cfg.getAttribute("data-scope"), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var m = /data-csrf="([^"]+)"/.exec(html);
        if (m) { csrf = m[1]; }
      });
  }

  function send(item, retried) {
    return fetch(item.url, {
      method: item.method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept-Language": lang },
      body: JSON.stringify(item.payload)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if ((response.status === 201 || response.status === 200) && body.uuid === item.uuid && body.receipt) {
          return store.remove(item.uuid).then(function () { return "sent"; });
        }
        if (response.status === 409 || response.status === 422) {
          item.problem = response.status === 409 && body.conflict_id ? msg("conflict")
            : msg("problem", { detail: Object.keys(body.fields || {}).map(function (k) { return k + " — " + body.fields[k]; }).join("; ") || body.error || response.status });
          item.status = response.status;
          return store.update(item).then(function () { return "refused"; });
        }
        if (response.status === 400 && !retried) {
          return freshCsrf().then(function () { return send(item, true); });
        }
        return "later";
      });
    });
  }

  var syncing = null;
  function sync() {
    if (syncing) { return syncing; }
    syncing = store.outbox().then(function (items) {
      var pending = items.filter(function (it) { return !it.status; });
      return pending.reduce(function (chain, item) {
        return chain.then(function (go) { return go ? send(item).then(function (r) { return r !== "later"; }) : false; });
      }, Promise.resolve(true));
    }).catch(function () { return null; })  // offline: everything stays in the outbox
      .then(function () { syncing = null; return refresh(); });
    return syncing;
  }

  window.FieldOffline = { store: store, sync: sync, refresh: refresh, csrf: function () { return csrf; },
                          markSafeNavigation: function () { safeNavigation = true; } };

  // Moving between field pages loses nothing (everything is in IndexedDB); signing out,
  // closing the tab or going elsewhere with unsent interviews gets a warning.
  document.addEventListener("click", function (event) {
    var a = event.target.closest && event.target.closest("a[href]");
    if (a && a.getAttribute("href").indexOf(cfg.getAttribute("data-scope")) === 0) { safeNavigation = true; }
  });
  window.addEventListener("beforeunload", function (event) {
    if (waiting > 0 && !safeNavigation) { event.preventDefault(); event.returnValue = ""; }
    safeNavigation = false;
  });
  document.querySelectorAll('form[action$="/logout"]').forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (waiting > 0 && !window.confirm(msg("leave", { n: waiting }))) { event.preventDefault(); return; }
      safeNavigation = true;
    });
  });
  window.addEventListener("online", function () { sync(); });
  window.addEventListener("offline", function () { refresh(); });
  setInterval(function () { if (navigator.onLine) { sync(); } }, 15000);
  if (navigator.storage && navigator.storage.persist) { navigator.storage.persist().catch(function () {}); }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(cfg.getAttribute("data-sw"), { scope: cfg.getAttribute("data-scope") })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) {
        var urls = Array.prototype.map.call(document.querySelectorAll('[data-role="entry-urls"] a'), function (a) { return a.getAttribute("href"); });
        if (urls.length && registration.active) {
          navigator.serviceWorker.addEventListener("message", function (event) {
            if (event.data && event.data.type === "kept") { document.documentElement.setAttribute("data-offline-ready", "1"); }
          });
          registration.active.postMessage({ type: "keep", urls: urls });
        } else {
          document.documentElement.setAttribute("data-offline-ready", "1");
        }
      }).catch(function () { return null; });
  }
  refresh().then(function () { if (navigator.onLine) { sync(); } });
})();
