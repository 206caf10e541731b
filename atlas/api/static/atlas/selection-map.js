// Draws the site-selection result (script#atlas-selection, CRS84) with the vendored Leaflet over
// a blank background: plots meeting every criterion in green, the others in grey; a click opens
// a popup linking to the plot's sheet. The table below the map says the same in text.
(function () {
  "use strict";
  var source = document.getElementById("atlas-selection");
  var element = document.getElementById("map");
  if (!source || !element || typeof L === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var map = L.map(element, { zoomSnap: 0.25 });
  function colour(feature) {
    return feature.properties && feature.properties.passed ? "#1a7f37" : "#6e7781";
  }
  var layer = L.geoJSON(data, {
    style: function (feature) {
      var passed = feature.properties && feature.properties.passed;
      return { color: colour(feature), weight: 2, fillOpacity: passed ? 0.5 : 0.15 };
    },
    onEachFeature: function (feature, item) {
      var p = feature.properties || {};
      var link = document.createElement("a");
      link.href = p.href;
      link.textContent = "#" + p.rank + " " + p.terr_id;
      item.bindPopup(link);
      item.bindTooltip(String(p.terr_id));
    }
  }).addTo(map);
  element.setAttribute("data-features", String(data.features.length));
  // The criteria are the URL's query; the map's position its hash (#zoom/lat/lon, as on the
  // Folium maps): opening a permalink with one restores the view, else the result is fitted.
  var view = location.hash.replace(/^#/, "").split("/").map(parseFloat);
  var bounds = layer.getBounds();
  if (view.length >= 3 && view.slice(0, 3).every(isFinite)) {
    map.setView([view[1], view[2]], view[0]);
  } else if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [16, 16], maxZoom: 17 });
  } else {
    map.setView([48.6, 2.44], 10);
  }
  var permalink = document.getElementById("permalink");
  function write() {
    var c = map.getCenter();
    var hash = "#" + [Math.round(map.getZoom() * 100) / 100, c.lat.toFixed(5), c.lng.toFixed(5)].join("/");
    history.replaceState(null, "", location.pathname + location.search + hash);
    element.setAttribute("data-view", hash.slice(1));  // what tests and assistive tools can read
    if (permalink) {
      permalink.href = location.href;
    }
  }
  map.on("moveend", write);
  write();
})();
