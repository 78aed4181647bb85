// Draws each .map from the JSON beside it: circle markers sized by casualties, coloured by
// weapon. The page's lists carry the same stories, so nothing depends on this script.
(function () {
  "use strict";
  function esc(text) {
    return String(text).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  function draw(el) {
    var markers = JSON.parse(document.getElementById(el.dataset.data).textContent);
    el.style.display = "block";  // hidden without JavaScript, where the lists stand alone
    var map = L.map(el, { scrollWheelZoom: false });
    L.tileLayer(el.dataset.tiles, { attribution: el.dataset.attribution, maxZoom: 18 }).addTo(map);
    var layer = L.featureGroup().addTo(map);
    markers.forEach(function (m) {
      // m: lat, lon, radius, colour, story id (null on a story's own map), title, killed, injured
      var label = m[4] === null ? esc(m[5])
        : '<a href="' + el.dataset.base + m[4] + '.html">' + esc(m[5]) + "</a>";
      var figures = [m[6], m[7]].some(function (n) { return n !== null; })
        ? "<br>† " + (m[6] === null ? "?" : m[6]) + " · + " + (m[7] === null ? "?" : m[7]) : "";
      L.circleMarker([m[0], m[1]], {
        radius: m[2], color: m[3], fillColor: m[3], fillOpacity: 0.55, weight: 1
      }).bindPopup(label + figures).addTo(layer);
    });
    if (markers.length) {
      map.fitBounds(layer.getBounds(), { maxZoom: 10, padding: [20, 20] });
    } else {
      map.setView([48.4, 31.2], 5);
    }
    el.dataset.drawn = String(markers.length);
  }
  Array.prototype.forEach.call(document.querySelectorAll(".map[data-data]"), draw);
})();
