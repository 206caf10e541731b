// The portal's small maps (home: the business parks; a sheet: its subject and surroundings), drawn
// with the vendored Leaflet from the page's JSON block (script#portal-shapes, CRS84) over a blank
// background: no tile server is asked for anything. A shape with an href links to its sheet.
(function () {
  "use strict";
  var source = document.getElementById("portal-shapes");
  var element = document.getElementById("portal-map");
  if (!source || !element || typeof L === "undefined") {
    return;
  }
  var styles = {
    subject: { color: "#0b5d4b", weight: 3, fillColor: "#1f9e7a", fillOpacity: 0.45 },
    site: { color: "#0b5d4b", weight: 2, fillColor: "#1f9e7a", fillOpacity: 0.18 },
    plot: { color: "#c0661a", weight: 1.5, fillColor: "#f2a541", fillOpacity: 0.45 },
    heritage: { color: "#7a2e6b", weight: 1.5, dashArray: "4 4", fillOpacity: 0.08 },
    flood: { color: "#1f5fa8", weight: 1, fillColor: "#4a90d9", fillOpacity: 0.3 },
    service: { color: "#3d4a5c", weight: 1, fillColor: "#ffffff", fillOpacity: 0.9 },
    commune: { color: "#666666", weight: 1, fill: false }
  };
  var data = JSON.parse(source.textContent);
  var map = L.map(element, { zoomSnap: 0.25, scrollWheelZoom: false });
  var layer = L.geoJSON(data, {
    style: function (feature) {
      return styles[feature.properties.role] || styles.site;
    },
    pointToLayer: function (feature, latlng) {
      var style = styles[feature.properties.role] || styles.service;
      return L.circleMarker(latlng, Object.assign({ radius: 5 }, style));
    },
    onEachFeature: function (feature, item) {
      var props = feature.properties || {};
      if (props.href) {
        var link = document.createElement("a");
        link.href = props.href;
        link.textContent = props.label || props.href;
        item.bindPopup(link);
      } else if (props.label) {
        var text = document.createElement("span");
        text.textContent = props.label;  // as text, never as HTML
        item.bindTooltip(text);
      }
    }
  }).addTo(map);
  var subject = L.geoJSON(
    { type: "FeatureCollection", features: data.features.filter(function (f) {
      return f.properties.role === "subject";
    }) }
  );
  // A sheet frames its subject and what lies around it; the home frames every site.
  var framed = subject.getLayers().length > 0;
  var bounds = framed ? subject.getBounds() : layer.getBounds();
  if (bounds.isValid()) {
    map.fitBounds(bounds.pad(framed ? 0.35 : 0.02), { maxZoom: 17 });
  } else {
    map.setView([48.6, 2.44], 10);
  }
})();
