// Keeps what an officer types in a form marked data-draft="key" in this tab's sessionStorage, so
// that it survives a language switch, a sign-in after the session expired and a failed submit.
// A draft sent with its form is dropped once a page confirms success (a success banner); the
// sign-out button drops every draft (office computers are shared). No inline script (CSP).
(function () {
  "use strict";
  // A refused form's page (422) stands at the address the form was posted to: give it the
  // page's own address, so that F5 reloads instead of offering to resend the form.
  var canonical = document.body.getAttribute("data-canonical-url");
  if (canonical && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", canonical);
  }
  // A page opened at a fragment skips autofocus (HTML's rule), so the refused box is focused
  // here: focusing also brings it into view.
  window.addEventListener("load", function () {
    var wanted = document.querySelector("[autofocus]");
    if (wanted && document.activeElement !== wanted) wanted.focus();
  });
  var PREFIX = "draft:";
  var store;
  try {
    store = window.sessionStorage;
    store.setItem(PREFIX + "probe", "1");
    store.removeItem(PREFIX + "probe");
  } catch (e) {
    return; // storage off: the forms work as before
  }

  function keep(field) {
    var type = (field.type || "").toLowerCase();
    return field.name && field.name !== "csrf_token" && type !== "hidden" && type !== "password" &&
      type !== "submit" && type !== "button" && type !== "file" && field.name !== "pin";
  }

  function keyOf(form, field) {
    return PREFIX + form.getAttribute("data-draft") + ":" + field.name;
  }

  function read(key) {
    try {
      return JSON.parse(store.getItem(key) || "null");
    } catch (e) {
      return null;
    }
  }

  var succeeded = document.querySelector(".flash-success") !== null;
  if (succeeded) {
    for (var i = store.length - 1; i >= 0; i--) {
      var name = store.key(i);
      if (name && name.indexOf(PREFIX) === 0 && (read(name) || {}).sent) store.removeItem(name);
    }
  }

  var restoredText = document.body.getAttribute("data-draft-restored") || "";
  Array.prototype.forEach.call(document.querySelectorAll("form[data-draft]"), function (form) {
    var restored = false;
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!keep(field)) return;
      var key = keyOf(form, field);
      var saved = read(key);
      if (saved && typeof saved.value === "string" && saved.value && !field.value) {
        field.value = saved.value;
        restored = true;
      }
      field.addEventListener("input", function () {
        store.setItem(key, JSON.stringify({ value: field.value, sent: false }));
      });
      field.addEventListener("change", function () {
        store.setItem(key, JSON.stringify({ value: field.value, sent: false }));
      });
    });
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(form.elements, function (field) {
        if (keep(field) && field.value) {
          store.setItem(keyOf(form, field), JSON.stringify({ value: field.value, sent: true }));
        }
      });
    });
    if (restored && restoredText) {
      var note = document.createElement("p");
      note.className = "draft-restored";
      note.setAttribute("role", "status");
      note.textContent = restoredText;
      form.insertBefore(note, form.firstChild);
    }
  });

  Array.prototype.forEach.call(document.querySelectorAll("form.logout"), function (form) {
    form.addEventListener("submit", function () {
      for (var i = store.length - 1; i >= 0; i--) {
        var name = store.key(i);
        if (name && name.indexOf(PREFIX) === 0) store.removeItem(name);
      }
    });
  });
})();
