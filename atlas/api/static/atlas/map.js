// Draws the page's GeoJSON (script#atlas-geojson, CRS84) with the vendored Leaflet, over a blank
// background: no tile server is asked for anything. Popups link to each feature's page.
(function () {
  "use strict";
  var source = document.getElementById("atlas-geojson");
  var element = document.getElementById("map");
  if (!source || !element || typeof L === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var map = L.map(element, { zoomSnap: 0.25 });
  var style = { color: "#c0392b", weight: 2, fillOpacity: 0.25 };
  var layer = L.geoJSON(data, {
    style: function () { return style; },
    pointToLayer: function (feature, latlng) {
      return L.circleMarker(latlng, { radius: 5, color: style.color, weight: 2, fillOpacity: 0.6 });
    },
    onEachFeature: function (feature, item) {
      if (!feature.properties || !feature.properties.href) {
        return;
      }
      var link = document.createElement("a");
      link.href = feature.properties.href;
      link.textContent = String(feature.id);
      item.bindPopup(link);
    }
  }).addTo(map);
  var bounds = layer.getBounds();
  if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [16, 16], maxZoom: 17 });
  } else {
    map.setView([48.6, 2.44], 10);
  }
})();
