/* The one map component. It draws what corrections/maps.py wrote into the page (zones, home,
 * check-ins with their accuracy, offices) with the vendored Leaflet, and on the enrolment form
 * lets the officer place the home and draw circles and a polygon straight into the form's boxes
 * with the vendored Leaflet-Geoman, so nobody types a coordinate.
 *
 * Every word a mark shows comes from the server, and is put in as text, never as markup.
 * A flagged check-in is drawn in a pane above the labels, and the one the page is about above
 * that; the view keeps clear of the corners where the zoom buttons and the scale bar sit, so
 * neither can hide it. Coordinates are WGS-84.
 */
(function () {
  "use strict";

  // Leaflet's own panes: overlay 400, marker 600, tooltip 650, popup 700; controls sit at 800.
  var PANES = { accuracy: 380, zones: 400, places: 600, points: 620, flagged: 670, focus: 680 };
  // Room kept free around the marks: the zoom buttons top left, the scale bar bottom left.
  var FIT = { paddingTopLeft: [60, 96], paddingBottomRight: [48, 60], maxZoom: 17 };
  var DECIMALS = 6; // about 0.1 m: finer than any phone's fix

  function readJson(id) {
    var el = id && document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function textBox(lines, className) {
    var box = document.createElement("div");
    box.className = className;
    lines.forEach(function (line, i) {
      var row = document.createElement(i === 0 ? "strong" : "span");
      row.textContent = line;
      box.appendChild(row);
    });
    return box;
  }

  function label(text, className) {
    var span = document.createElement("span");
    span.className = className;
    span.textContent = text;
    return span;
  }

  function icon(kind, symbol, size) {
    return L.divIcon({
      className: "map-mark map-" + kind,
      html: symbol ? "<span>" + symbol + "</span>" : "<span></span>",
      iconSize: [size, size],
      iconAnchor: [size / 2, size / 2],
      popupAnchor: [0, -size / 2],
    });
  }

  var ICONS = {};
  function icons() {
    if (!ICONS.home) {
      ICONS.home = icon("home", "\u2302", 34);
      ICONS.office = icon("office", "\u6240", 30);
      ICONS.accepted = icon("accepted", "", 26);
      ICONS.flagged = icon("flagged", "<b>!</b>", 34);
      ICONS.focus = icon("flagged map-focus", "<b>!</b>", 40);
      ICONS.alertFlagged = icon("flagged map-of-alert", "<b>!</b>", 36);
      ICONS.alertAccepted = icon("accepted map-of-alert", "", 30);
    }
    return ICONS;
  }

  function zoneLayer(zone, extra) {
    var options = Object.assign(
      {
        pane: "zones",
        className: "map-zone map-zone-" + zone.kind + (zone.broken ? " map-zone-broken" : ""),
        color: zone.kind === "exclusion" ? "#a30000" : "#1d6b2f",
        weight: zone.broken ? 6 : 3,
        fillOpacity: 0.12,
        interactive: false,
        pmIgnore: true,
      },
      extra || {}
    );
    if (zone.polygon) return L.polygon(zone.polygon, options);
    return L.circle([zone.lat, zone.lon], Object.assign({ radius: zone.radius_m }, options));
  }

  /* A zone's name, inside a circle just under its northern edge: the middle of a circle is
   * usually the home, and a fix outside it is usually beyond the edge. */
  function nameTooltip(map, layer, zone) {
    if (!zone.name) return;
    var options = {
      permanent: true,
      direction: zone.polygon ? "center" : "bottom",
      offset: [0, 4],
      className: "map-label map-label-" + zone.kind,
    };
    if (zone.polygon) {
      layer.bindTooltip(label(zone.name, "map-label-text"), options);
    } else {
      var north = [zone.lat + zone.radius_m / 111320, zone.lon]; // metres per degree of latitude
      map.openTooltip(label(zone.name, "map-label-text"), north, options);
    }
  }

  function drawView(map, data) {
    var bounds = L.latLngBounds([]);
    data.zones.forEach(function (zone) {
      var layer = zoneLayer(zone).addTo(map);
      nameTooltip(map, layer, zone);
      bounds.extend(layer.getBounds());
    });
    data.offices.forEach(function (office) {
      var marker = L.marker([office.lat, office.lon], {
        icon: icons().office,
        pane: "places",
        title: office.name,
        alt: office.name,
        pmIgnore: true,
      }).addTo(map);
      marker.bindTooltip(label(office.name, "map-label-text"), {
        permanent: true,
        direction: "right",
        offset: [14, 0],
        className: "map-label map-label-office",
      });
      marker.bindPopup(textBox([office.name].concat(office.lines || []), "map-popup"));
      bounds.extend(marker.getLatLng());
    });
    if (data.home) {
      var home = L.marker([data.home.lat, data.home.lon], {
        icon: icons().home,
        pane: "places",
        title: data.home.title,
        alt: data.home.title,
        pmIgnore: true,
      }).addTo(map);
      home.bindPopup(textBox([data.home.title], "map-popup"));
      bounds.extend(home.getLatLng());
    }
    // Oldest first, so where marks overlap the newest is on top; flagged and the alert's own
    // have panes of their own above the labels.
    var marks = [];
    data.points.forEach(function (point) {
      var flagged = point.status === "flagged";
      var layers = [];
      if (point.accuracy_m) {
        layers.push(L.circle([point.lat, point.lon], {
          radius: point.accuracy_m,
          pane: "accuracy",
          className: "map-accuracy" + (flagged ? " map-accuracy-flagged" : ""),
          color: flagged ? "#a30000" : "#1d6b2f",
          weight: 1.5,
          dashArray: "4 4",
          fillOpacity: 0.08,
          interactive: false,
          pmIgnore: true,
        }));
      }
      var kind = point.focus ? "focus" : point.alert ? (flagged ? "alertFlagged" : "alertAccepted")
        : flagged ? "flagged" : "accepted";
      var title = point.lines.slice(0, 2).join(" ");
      var marker = L.marker([point.lat, point.lon], {
        icon: icons()[kind],
        pane: point.alert ? "focus" : flagged ? "flagged" : "points",
        zIndexOffset: point.focus ? 1000 : 0, // Leaflet stacks by latitude within a pane
        title: title,
        alt: title,
        pmIgnore: true,
      });
      marker.bindPopup(textBox(point.lines, "map-popup"));
      layers.push(marker);
      var area = marker.getLatLng().toBounds(point.focus ? 2 * (point.accuracy_m || 0) : 0);
      marks.push({
        day: point.day,
        at: marker.getLatLng(),
        area: area,
        layers: layers,
      });
    });
    var alert = data.points.some(function (point) {
      return point.focus;
    });
    return { base: bounds, marks: marks, alert: alert };
  }

  /* Which marks are drawn: every one, or one local day's; the track (a line through them in
   * time order, as the server sent them) follows. Returns the bounds of what is drawn. */
  function showMarks(map, view, day) {
    var shown = L.latLngBounds([]);
    var line = [];
    view.marks.forEach(function (mark) {
      var visible = !day || mark.day === day;
      mark.layers.forEach(function (layer) {
        if (visible && !map.hasLayer(layer)) layer.addTo(map);
        if (!visible && map.hasLayer(layer)) map.removeLayer(layer);
      });
      if (visible) {
        shown.extend(mark.area);
        line.push(mark);
      }
    });
    if (view.line) {
      view.line.setLatLngs(line.length > 1 ? line.map(function (m) { return m.at; }) : []);
    }
    return shown;
  }

  /* The whole view on "all days", else the chosen day's marks (the zones and places if the
   * day has none); an alert's map keeps the zones and places in view, to judge its fix by. */
  function fitShown(map, view, day, shown) {
    var bounds = L.latLngBounds([]);
    if (!day || !shown.isValid() || view.alert) bounds.extend(view.base);
    if (shown.isValid()) bounds.extend(shown);
    fit(map, bounds);
  }

  /* A subject's movements: a line through the points in time order, and the day picker (the
   * buttons of [data-map-days]) that shows one day at a time. */
  function trackOf(map, view, first) {
    view.line = L.polyline([], {
      pane: "zones",
      className: "map-track",
      color: "#4a4a4a",
      weight: 2,
      dashArray: "6 6",
      interactive: false,
      pmIgnore: true,
    }).addTo(map);
    var id = map.getContainer().id;
    var picker = document.querySelector('[data-map-days="' + id + '"]');
    var buttons = picker ? Array.prototype.slice.call(picker.querySelectorAll("[data-day]")) : [];
    var status = document.getElementById(id + "-day-status");
    function choose(button) {
      var day = button ? button.getAttribute("data-day") : "";
      buttons.forEach(function (b) {
        b.setAttribute("aria-pressed", b === button ? "true" : "false");
      });
      if (status && button) status.textContent = button.getAttribute("data-summary");
      map.closePopup();
      fitShown(map, view, day, showMarks(map, view, day));
      map.getContainer().setAttribute("data-map-day", day);
    }
    buttons.forEach(function (button, index) {
      button.addEventListener("click", function () {
        choose(button);
      });
      button.addEventListener("keydown", function (event) {
        var step = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 }[event.key];
        if (!step) return;
        event.preventDefault();
        var next = buttons[(index + step + buttons.length) % buttons.length];
        next.focus();
        choose(next);
      });
    });
    if (picker) picker.hidden = false;
    var start = null;
    buttons.forEach(function (b) {
      if (b.getAttribute("data-day") === (first || "")) start = b;
    });
    if (start || !buttons.length) {
      choose(start);
    } else {
      choose(buttons[0]);
    }
  }

  function tiles(map, settings) {
    if (!settings) return;
    var options = {
      subdomains: settings.subdomains,
      maxZoom: settings.max_zoom,
      attribution: settings.attribution,
    };
    L.tileLayer(settings.url, options).addTo(map);
    if (settings.labels_url) L.tileLayer(settings.labels_url, options).addTo(map);
  }

  /* Leaflet's scale bar, in the page's words for metres and kilometres (米, 公里). */
  function scaleBar(units) {
    var bar = L.control.scale({ imperial: false, position: "bottomleft", maxWidth: 160 });
    if (units) {
      bar._updateMetric = function (maxMeters) {
        var meters = this._getRoundNum(maxMeters);
        var text = meters < 1000
          ? units.m.replace("%(m)s", meters)
          : units.km.replace("%(km)s", meters / 1000);
        this._updateScale(this._mScale, text, meters / maxMeters);
      };
    }
    return bar;
  }

  function createMap(el, data) {
    var map = L.map(el, {
      attributionControl: !!data.tiles,
      scrollWheelZoom: false, // the page scrolls under the wheel until the map is clicked
      minZoom: 3,
      maxZoom: data.tiles ? data.tiles.max_zoom : 19,
      zoomSnap: 0.5,
      // A closed popup fades out but stays in the page, invisible and catching taps over the
      // marks under it; without the fade it is gone at once.
      fadeAnimation: false,
    });
    Object.keys(PANES).forEach(function (name) {
      map.createPane(name).style.zIndex = PANES[name];
    });
    if (map.attributionControl) map.attributionControl.setPrefix("Leaflet");
    scaleBar(data.units).addTo(map);
    map.on("click focus", function () {
      map.scrollWheelZoom.enable();
    });
    el.addEventListener("mouseleave", function () {
      map.scrollWheelZoom.disable();
    });
    tiles(map, data.tiles);
    // Shapes measure themselves only on a map with a view: start somewhere, fit afterwards.
    map.setView([35, 105], 4);
    return map;
  }

  function fit(map, bounds, fallback) {
    if (bounds.isValid()) {
      map.fitBounds(bounds, FIT);
    } else {
      map.setView(fallback || [35, 105], fallback ? 14 : 4);
    }
  }

  /* --- the enrolment editor ---------------------------------------------------------------- */

  function field(id) {
    return id ? document.getElementById(id) : null;
  }

  function number(id) {
    var el = field(id);
    if (!el) return null;
    var value = el.value.trim();
    if (!/^-?\d+(\.\d+)?$/.test(value)) return null;
    return parseFloat(value);
  }

  function put(id, value) {
    var el = field(id);
    if (el && el.value !== value) {
      el.value = value;
      el.dispatchEvent(new Event("input", { bubbles: true })); // drafts.js keeps it
    }
  }

  function fixed(value) {
    return value.toFixed(DECIMALS);
  }

  function Editor(map, el, data, spec) {
    this.map = map;
    this.data = data;
    this.spec = spec;
    this.home = null;
    this.circles = spec.circles.map(function () {
      return null;
    });
    this.polygon = null;
    this.standard = null;
    this.status = field(spec.status);
    map.pm.setLang(document.documentElement.lang.indexOf("zh") === 0 ? "zh" : "en");
    map.pm.setGlobalOptions({ continueDrawing: false, allowSelfIntersection: false });
    this.bindTools(el);
    this.bindFields();
    map.on("pm:create", this.created, this);
    this.fromFields();
    this.showStandard();
    var bounds = this.bounds();
    var office = this.office();
    if (bounds.isValid()) fit(map, bounds);
    else if (office) map.setView([office.lat, office.lon], 14);
  }

  Editor.prototype.say = function (message) {
    if (this.status) this.status.textContent = message || "";
  };

  Editor.prototype.office = function () {
    var select = field(this.spec.office);
    var code = select ? select.value : "";
    var found = null;
    this.data.offices.forEach(function (office) {
      if (office.code === code) found = office;
    });
    return found;
  };

  Editor.prototype.bindTools = function () {
    var editor = this;
    document.querySelectorAll("[data-map-tool]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        editor.tool(button.getAttribute("data-map-tool"));
      });
    });
  };

  Editor.prototype.tool = function (name) {
    var pm = this.map.pm;
    pm.disableDraw();
    if (pm.globalRemovalModeEnabled()) pm.disableGlobalRemovalMode();
    if (name === "home") {
      pm.enableDraw("Marker", { markerStyle: { icon: icons().home } });
      this.say(this.spec.messages.home);
    } else if (name === "circle") {
      if (this.freeRow() < 0) return this.say(this.spec.messages.circles_full);
      pm.enableDraw("Circle");
      this.say(this.spec.messages.circle);
    } else if (name === "polygon") {
      pm.enableDraw("Polygon");
      this.say(this.spec.messages.polygon);
    } else if (name === "here") {
      this.here();
    } else if (name === "remove") {
      pm.enableGlobalRemovalMode();
      this.say(this.spec.messages.remove);
    }
  };

  /* At a home visit with a tablet: the home is where the officer stands. Browsers give the
   * position only to pages served over HTTPS (or from this machine). */
  Editor.prototype.here = function () {
    var editor = this;
    var messages = this.spec.messages;
    if (!navigator.geolocation) return this.say(messages.here_failed);
    this.say(messages.here_wait);
    navigator.geolocation.getCurrentPosition(
      function (position) {
        var at = [position.coords.latitude, position.coords.longitude];
        editor.keep("home", L.marker(at, { icon: icons().home }));
        editor.write("home");
        editor.map.setView(at, Math.max(editor.map.getZoom(), 16));
        editor.say(messages.here_done.replace("%(m)s", Math.round(position.coords.accuracy)));
      },
      function () {
        editor.say(messages.here_failed);
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 }
    );
  };

  Editor.prototype.bindFields = function () {
    var editor = this;
    var ids = [this.spec.home.lat, this.spec.home.lon, this.spec.polygon, this.spec.source];
    this.spec.circles.forEach(function (row) {
      ids.push(row.lat, row.lon, row.radius_m);
    });
    ids.forEach(function (id) {
      var el = field(id);
      if (el) el.addEventListener("change", function () {
        editor.fromFields();
      });
    });
    [this.spec.office, this.spec.standard].forEach(function (id) {
      var el = field(id);
      if (el) el.addEventListener("change", function () {
        editor.showStandard();
        var office = editor.office();
        if (office && !editor.bounds().isValid()) editor.map.setView([office.lat, office.lon], 14);
      });
    });
  };

  Editor.prototype.clear = function () {
    var map = this.map;
    [this.home, this.polygon].concat(this.circles).forEach(function (layer) {
      if (layer) map.removeLayer(layer);
    });
    this.home = this.polygon = null;
    this.circles = this.circles.map(function () {
      return null;
    });
  };

  /* Draw what the boxes hold: after a failed submit, or when the officer types in them.
   * Coordinates copied from a Chinese map app are converted on the server, so the map draws
   * the boxes only while they say GPS (WGS-84). */
  Editor.prototype.fromFields = function () {
    this.clear();
    var source = field(this.spec.source);
    if (source && source.value !== "wgs84") return;
    var spec = this.spec;
    var lat = number(spec.home.lat);
    var lon = number(spec.home.lon);
    if (lat !== null && lon !== null) this.keep("home", L.marker([lat, lon], { icon: icons().home }));
    var editor = this;
    spec.circles.forEach(function (row, index) {
      var radius = number(row.radius_m);
      var clat = number(row.lat);
      var clon = number(row.lon);
      if (clat === null && clon === null && radius && lat !== null && lon !== null) {
        clat = lat; // a circle with no centre is centred on the home
        clon = lon;
      }
      if (clat !== null && clon !== null && radius) {
        editor.keep(index, L.circle([clat, clon], { radius: radius }));
      }
    });
    var corners = [];
    (field(spec.polygon) ? field(spec.polygon).value : "").split(/\n/).forEach(function (line) {
      var parts = line.trim().split(/[\s,;，；]+/).filter(Boolean);
      if (parts.length === 2 && parts.every(function (p) { return /^-?\d+(\.\d+)?$/.test(p); })) {
        corners.push([parseFloat(parts[0]), parseFloat(parts[1])]);
      }
    });
    if (corners.length >= 3) this.keep("polygon", L.polygon(corners));
  };

  /* Put a drawn shape in its slot, make it draggable and editable, and follow its edits. */
  Editor.prototype.keep = function (slot, layer) {
    var editor = this;
    if (slot === "home") {
      if (this.home && this.home !== layer) this.map.removeLayer(this.home);
      this.home = layer;
    } else if (slot === "polygon") {
      if (this.polygon && this.polygon !== layer) this.map.removeLayer(this.polygon);
      this.polygon = layer;
    } else {
      this.circles[slot] = layer;
    }
    if (!this.map.hasLayer(layer)) layer.addTo(this.map);
    if (layer.setStyle) layer.setStyle({ color: "#1d6b2f", weight: 3, fillOpacity: 0.12 });
    layer.pm.enable({ draggable: true, allowSelfIntersection: false });
    layer.on("pm:edit pm:dragend pm:markerdragend", function () {
      editor.write(slot);
    });
    layer.on("pm:remove", function () {
      editor.forget(slot);
    });
  };

  Editor.prototype.freeRow = function () {
    for (var i = 0; i < this.spec.circles.length; i++) {
      var row = this.spec.circles[i];
      if (!this.circles[i] && number(row.lat) === null && number(row.radius_m) === null) return i;
    }
    return -1;
  };

  Editor.prototype.created = function (event) {
    var layer = event.layer;
    this.map.pm.disableDraw();
    if (event.shape === "Marker") {
      this.keep("home", layer);
      this.write("home");
      this.say(this.spec.messages.home_done);
    } else if (event.shape === "Circle") {
      var row = this.freeRow();
      if (row < 0) {
        this.map.removeLayer(layer);
        return this.say(this.spec.messages.circles_full);
      }
      this.keep(row, layer);
      this.write(row);
      this.say(this.spec.messages.circle_done.replace("%(n)s", row + 1));
    } else if (event.shape === "Polygon") {
      this.keep("polygon", layer);
      this.write("polygon");
      this.say(this.spec.messages.polygon_done);
    }
  };

  /* The map's coordinates are GPS (WGS-84): whatever the boxes said before, they say so now. */
  Editor.prototype.markWgs84 = function () {
    var source = field(this.spec.source);
    if (source && source.value !== "wgs84") {
      source.value = "wgs84";
      source.dispatchEvent(new Event("input", { bubbles: true }));
      this.say(this.spec.messages.source_changed);
      return true;
    }
    return false;
  };

  Editor.prototype.write = function (slot) {
    var changed = this.markWgs84();
    var spec = this.spec;
    if (slot === "home" && this.home) {
      var at = this.home.getLatLng().wrap();
      put(spec.home.lat, fixed(at.lat));
      put(spec.home.lon, fixed(at.lng));
    } else if (slot === "polygon" && this.polygon) {
      var ring = this.polygon.getLatLngs()[0].map(function (c) {
        c = c.wrap();
        return fixed(c.lat) + ", " + fixed(c.lng);
      });
      put(spec.polygon, ring.join("\n"));
      if (!field(spec.polygon_name).value.trim()) put(spec.polygon_name, spec.messages.polygon_name);
    } else if (typeof slot === "number" && this.circles[slot]) {
      var row = spec.circles[slot];
      var centre = this.circles[slot].getLatLng().wrap();
      put(row.lat, fixed(centre.lat));
      put(row.lon, fixed(centre.lng));
      put(row.radius_m, String(Math.round(this.circles[slot].getRadius())));
      if (!field(row.name).value.trim()) put(row.name, spec.messages.circle_name.replace("%(n)s", slot + 1));
    }
    if (changed) this.fromFields();
  };

  Editor.prototype.forget = function (slot) {
    var spec = this.spec;
    if (slot === "home") {
      this.home = null;
      put(spec.home.lat, "");
      put(spec.home.lon, "");
    } else if (slot === "polygon") {
      this.polygon = null;
      put(spec.polygon, "");
      put(spec.polygon_name, "");
    } else {
      this.circles[slot] = null;
      var row = spec.circles[slot];
      [row.lat, row.lon, row.radius_m, row.name].forEach(function (id) {
        put(id, "");
      });
    }
    this.say(this.spec.messages.removed);
  };

  /* The chosen office's standard area, drawn (not editable) while its box is ticked. */
  Editor.prototype.showStandard = function () {
    if (this.standard) this.map.removeLayer(this.standard);
    this.standard = null;
    var box = field(this.spec.standard);
    var office = this.office();
    if (!box || !box.checked || !office || !office.zone) return;
    var zone = Object.assign({ kind: "allowed", broken: false }, office.zone);
    this.standard = zoneLayer(zone, { dashArray: "8 6" }).addTo(this.map);
    if (zone.polygon) nameTooltip(this.map, this.standard, zone);
  };

  Editor.prototype.bounds = function () {
    var bounds = L.latLngBounds([]);
    [this.home, this.polygon, this.standard].concat(this.circles).forEach(function (layer) {
      if (!layer) return;
      if (layer.getBounds) bounds.extend(layer.getBounds());
      else bounds.extend(layer.getLatLng());
    });
    return bounds;
  };

  function start(el) {
    var data = readJson(el.getAttribute("data-map"));
    if (!data || typeof L === "undefined") return;
    var map = createMap(el, data);
    el.leafletMap = map; // for the browser tests and later pages (the wall)
    var spec = readJson(el.getAttribute("data-map-edit"));
    if (spec && map.pm) {
      var offices = drawView(map, { zones: [], points: [], offices: data.offices, home: null });
      el.mapEditor = new Editor(map, el, data, spec);
      if (!el.mapEditor.bounds().isValid() && !el.mapEditor.office()) fit(map, offices.base);
    } else {
      var view = drawView(map, data);
      if (data.track) {
        trackOf(map, view, data.day);
      } else {
        fitShown(map, view, "", showMarks(map, view, ""));
      }
    }
    el.setAttribute("data-map-ready", "1");
  }

  function startAll() {
    document.querySelectorAll("[data-map]").forEach(start);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", startAll);
  } else {
    startAll();
  }
})();
