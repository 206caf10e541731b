// Permalinks for the Folium maps (/maps/{tier}, /maps/{tier}/selection): the view — zoom, centre, the
// base layer and the overlays shown — lives in the URL's hash, #zoom/lat/lon/base/overlays
// (layers by their position in the layer control, the same in French and in English), kept up
// to date as the reader moves and toggles, and restored when the page opens with a hash. The
// query string (lang, site-selection criteria) is left alone. Loaded after Leaflet and before
// the map's own script: it watches maps and layer controls being made (Leaflet init hooks).
(function () {
  "use strict";
  if (typeof L === "undefined") {
    return;
  }
  var state = { map: null, control: null, restoring: false };

  function entries(kind) {
    // The control's layers in its own order; overlay: true for overlays, false for bases.
    return (state.control ? state.control._layers : []).filter(function (e) {
      return Boolean(e.overlay) === kind;
    });
  }

  function write() {
    if (!state.map || state.restoring) {
      return;
    }
    var map = state.map;
    var centre = map.getCenter();
    var zoom = Math.round(map.getZoom() * 100) / 100;
    var base = entries(false).findIndex(function (e) { return map.hasLayer(e.layer); });
    var shown = [];
    entries(true).forEach(function (e, i) {
      if (map.hasLayer(e.layer)) {
        shown.push(i);
      }
    });
    var hash = "#" + [zoom, centre.lat.toFixed(5), centre.lng.toFixed(5), base, shown.join(",")].join("/");
    if (location.hash !== hash) {
      history.replaceState(null, "", location.pathname + location.search + hash);
    }
  }

  function parse(hash) {
    var parts = hash.replace(/^#/, "").split("/");
    var zoom = parseFloat(parts[0]);
    var lat = parseFloat(parts[1]);
    var lon = parseFloat(parts[2]);
    if (parts.length < 3 || !isFinite(zoom) || !isFinite(lat) || !isFinite(lon)) {
      return null;
    }
    var overlays = null;
    if (parts.length >= 5) {
      overlays = parts[4] === "" ? [] : parts[4].split(",").map(Number);
    }
    return { zoom: zoom, lat: lat, lon: lon, base: parts.length >= 4 ? Number(parts[3]) : -1, overlays: overlays };
  }

  function restore() {
    var view = parse(location.hash);
    if (!state.map || !view) {
      return;
    }
    var map = state.map;
    state.restoring = true;
    try {
      var bases = entries(false);
      if (view.base >= 0 && view.base < bases.length && !map.hasLayer(bases[view.base].layer)) {
        bases.forEach(function (e) { map.removeLayer(e.layer); });
        map.addLayer(bases[view.base].layer);
      }
      if (view.overlays) {
        entries(true).forEach(function (e, i) {
          var wanted = view.overlays.indexOf(i) >= 0;
          if (wanted && !map.hasLayer(e.layer)) {
            map.addLayer(e.layer);
          } else if (!wanted && map.hasLayer(e.layer)) {
            map.removeLayer(e.layer);
          }
        });
      }
      map.setView([view.lat, view.lon], view.zoom, { animate: false });
    } finally {
      state.restoring = false;
    }
    if (state.control) {
      state.control._update();  // the control's boxes follow the layers just toggled
    }
    write();
  }

  function start() {
    var map = state.map;
    map.on("moveend zoomend baselayerchange overlayadd overlayremove", write);
    window.addEventListener("hashchange", restore);
    if (location.hash) {
      restore();
    } else {
      write();
    }
    document.documentElement.setAttribute("data-permalink", "ready");
  }

  L.Map.addInitHook(function () {
    if (!state.map) {
      state.map = this;
    }
  });
  L.Control.Layers.addInitHook(function () {
    if (state.control) {
      return;
    }
    state.control = this;
    // The map's script adds the control, then goes on; the view is restored once it is done.
    window.setTimeout(function () {
      if (state.map) {
        start();
      }
    }, 0);
  });
})();
