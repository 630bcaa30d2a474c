// The map (Leaflet): jobs of the queue's page, technicians where last seen, outage clusters.
// Markers are drawn as vectors and HTML, so the map shows them with no tiles at all (air-gapped
// sites set no tile URL).
import { categoryOf, config, fill, fmt, text } from "./common.js";

const COLOURS = { escalated: "#b71c1c", late: "#e65100", at_risk: "#c62828", unassigned: "#6a1b9a", held: "#455a64" };

export class BoardMap {
  constructor(board) {
    this.board = board;
    this.view = L.map("map", { preferCanvas: false, zoomControl: true, attributionControl: true });
    if (config.tiles) {
      L.tileLayer(config.tiles, { maxZoom: 19, attribution: config.attribution }).addTo(this.view);
    }
    this.jobs = L.layerGroup().addTo(this.view);
    this.crew = L.layerGroup().addTo(this.view);
    this.outages = L.layerGroup().addTo(this.view);
    this.markers = new Map(); // request id → marker
    this.fitted = false;
    this.view.setView([43.238, 76.945], 11); // until there is something to show
    new ResizeObserver(() => this.view.invalidateSize()).observe(document.getElementById("map"));
  }

  showJobs(requests) {
    this.jobs.clearLayers();
    this.outages.clearLayers();
    this.markers.clear();
    const incidents = new Map();
    for (const r of requests) {
      if (r.lat == null || r.lon == null) continue;
      if (r.incident_id) incidents.set(r.incident_id, [...(incidents.get(r.incident_id) || []), r]);
      const colour = COLOURS[r.urgency] || (r.kind === "emergency" ? "#d32f2f" : "#1f6feb");
      const marker = L.circleMarker([r.lat, r.lon], {
        radius: r.kind === "emergency" ? 8 : 6, color: "#fff", weight: 2, fillColor: colour, fillOpacity: 0.95,
        className: `job-marker urgency-${r.urgency || "none"}`,
      });
      marker.bindTooltip(`${r.number} · ${categoryOf(r)} · ${r.customer}`
        + (r.visit ? ` → ${r.visit.technician} ${fmt(r.visit.planned_start)}` : ` · ${text.unassigned}`));
      marker.on("click", () => this.board.select(r.id));
      marker.addTo(this.jobs);
      this.markers.set(r.id, marker);
    }
    for (const [, members] of incidents) {
      if (members.length < 2) continue;
      const lat = members.reduce((s, r) => s + r.lat, 0) / members.length;
      const lon = members.reduce((s, r) => s + r.lon, 0) / members.length;
      L.circle([lat, lon], {
        radius: 600, color: "#b71c1c", weight: 2, dashArray: "4 4", fillOpacity: 0.08,
        className: "outage-cluster",
      }).bindTooltip(`${text.outage}: ${members.length}`).addTo(this.outages);
    }
    if (!this.fitted && this.markers.size) {
      this.fitted = true;
      this.view.fitBounds(L.featureGroup([...this.markers.values()]).getBounds().pad(0.2), { maxZoom: 13 });
    }
  }

  showTechnicians(technicians) {
    this.crew.clearLayers();
    for (const t of technicians) {
      if (!t.position) continue;
      const initials = t.name.split(/\s+/).map((w) => w[0] || "").join("").slice(0, 2).toUpperCase();
      const icon = L.divIcon({
        className: "tech-marker", html: `<span>${initials.replace(/[<>&"]/g, "")}</span>`, iconSize: [26, 26],
      });
      L.marker([t.position.lat, t.position.lon], { icon, keyboard: false, title: t.name })
        .bindTooltip(`${t.name} · ${t.position.seen_at ? fill(text.seen_at, { time: fmt(t.position.seen_at) }) : ""}`)
        .addTo(this.crew);
    }
  }

  focus(requestId) {
    const marker = this.markers.get(requestId);
    if (!marker) return;
    this.view.invalidateSize({ pan: false });
    this.view.panTo(marker.getLatLng(), { animate: false });
    marker.openTooltip();
  }
}
