// The customer's live arrival page: polls the visit's state (every 15 s) and moves the ETA and
// the technician's marker in place; stops when the link ends (410).
"use strict";
(function () {
  const config = window.LIVE;
  let state = JSON.parse(document.getElementById("live-state").textContent);
  const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
  let map = null, home = null, van = null;

  function hhmm(iso) { return iso ? iso.slice(11, 16) : ""; }

  function drawMap() {
    if (!window.L) return;
    const box = document.getElementById("live-map");
    const dest = [state.destination.lat, state.destination.lon];
    map = L.map(box, { zoomControl: false, attributionControl: !!config.tiles }).setView(dest, 14);
    if (config.tiles) L.tileLayer(config.tiles, { attribution: config.attribution }).addTo(map);
    home = L.circleMarker(dest, { radius: 9, color: "#1f5fbf", fillOpacity: 0.9 })
      .bindTooltip(config.words.you).addTo(map);
  }

  function render() {
    $("live-status").textContent = state.status_label;
    $("eta").textContent = hhmm(state.eta);
    $("eta-line").hidden = !state.eta || !["scheduled", "accepted", "en_route"].includes(state.status);
    $("late").hidden = !state.late;
    if (!map) return;
    if (state.position) {
      const at = [state.position.lat, state.position.lon];
      if (!van) {
        van = L.circleMarker(at, { radius: 8, color: "#e07b00", fillOpacity: 0.9 })
          .bindTooltip(config.words.technician).addTo(map);
      } else van.setLatLng(at);
      map.fitBounds(L.latLngBounds([at, home.getLatLng()]).pad(0.3), { maxZoom: 16 });
    } else if (van) { van.remove(); van = null; }
  }

  async function poll() {
    try {
      const response = await fetch(config.stateUrl, { headers: { Accept: "application/json" } });
      if (response.status === 410 || response.status === 404) {
        $("ended").hidden = false;
        $("eta-line").hidden = true;
        document.getElementById("live-map").hidden = true;
        return; // the link has ended: no more polling
      }
      if (response.ok) { state = await response.json(); render(); }
    } catch (error) { /* offline for a moment: try again later */ }
    setTimeout(poll, config.pollMs);
  }

  drawMap();
  render();
  setTimeout(poll, config.pollMs);
  window.liveEtaPoll = poll; // tests ask for an update without waiting 15 s
})();
