// Keeps the open alert queue up to date: every data-refresh-seconds it asks
// data-refresh-url (with the page's own filters and page number) for the list, puts it in
// place when it changed, keeps the officer where they were reading, sets "Updated at hh:mm" and
// the count in the tab title, and shows the warning when no refresh has succeeded for
// data-stale-after-seconds. Without JavaScript the page is the server's list and its
// "Refresh now" link. No inline script (CSP), no library.
(function () {
  "use strict";
  var list = document.getElementById("queue-list");
  if (!list || !window.fetch) return;
  var updated = document.getElementById("queue-updated");
  var warning = document.getElementById("queue-stale");
  var every = Math.max(1, Number(list.getAttribute("data-refresh-seconds")) || 30) * 1000;
  var staleAfter = Math.max(1, Number(list.getAttribute("data-stale-after-seconds")) || 120) * 1000;
  var url = list.getAttribute("data-refresh-url") + window.location.search;
  var lastSuccess = Date.now();
  var busy = false;
  var failing = false; // the last refresh failed: warn until one succeeds
  // As the server sent it (innerHTML reads back differently); the first answer always replaces.
  var lastHtml = null;
  var timer = null;

  function alertIds() {
    var ids = {};
    var rows = list.querySelectorAll("[data-alert]");
    for (var i = 0; i < rows.length; i++) ids[rows[i].getAttribute("data-alert")] = true;
    return ids;
  }

  // The group at the top of the window and how far from the top it stands, to find it again.
  function readingPlace() {
    var groups = list.querySelectorAll("[data-group]");
    for (var i = 0; i < groups.length; i++) {
      var box = groups[i].getBoundingClientRect();
      if (box.bottom > 0) return { key: groups[i].getAttribute("data-group"), top: box.top };
    }
    return null;
  }

  function focusedHref() {
    var active = document.activeElement;
    return active && list.contains(active) && active.getAttribute("href");
  }

  function replaceList(html) {
    var before = alertIds();
    var place = readingPlace();
    var scrollY = window.scrollY;
    var href = focusedHref();
    list.innerHTML = html;
    var rows = list.querySelectorAll("[data-alert]");
    for (var i = 0; i < rows.length; i++) {
      if (!before[rows[i].getAttribute("data-alert")]) rows[i].classList.add("is-new");
    }
    var again = place && list.querySelector('[data-group="' + place.key + '"]');
    if (again && scrollY > 0) {
      window.scrollBy(0, again.getBoundingClientRect().top - place.top);
    } else {
      window.scrollTo(0, scrollY);
    }
    if (href) {
      var link = list.querySelector('[href="' + href + '"]');
      if (link) link.focus({ preventScroll: true });
    }
  }

  function setTitle(count) {
    var plain = document.title.replace(/^\(\d+\) /, "");
    document.title = count > 0 ? "(" + count + ") " + plain : plain;
  }

  function checkStale() {
    if (warning) warning.hidden = !failing && Date.now() - lastSuccess < staleAfter;
  }

  function failed() {
    // A failed refresh says so at once: the officer must not trust an old list.
    failing = true;
    checkStale();
  }

  function refresh() {
    if (busy) return;
    busy = true;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("refresh answered " + response.status);
        return response.json();
      })
      .then(function (data) {
        if (data.html !== lastHtml) replaceList(data.html);
        lastHtml = data.html;
        if (updated) updated.textContent = data.updated_text;
        setTitle(data.open_alerts);
        lastSuccess = Date.now();
        failing = false;
        checkStale();
      })
      .catch(failed)
      .then(function () {
        busy = false;
      });
  }

  function start() {
    if (timer === null) timer = window.setInterval(refresh, every);
  }

  function stop() {
    if (timer !== null) window.clearInterval(timer);
    timer = null;
  }

  // A tab in the background is not asked every few seconds; back in front it catches up at once.
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      stop();
    } else {
      checkStale();
      refresh();
      start();
    }
  });
  window.setInterval(checkStale, 5000);
  start();
})();
