// A job's card: what the technician needs on the doorstep, and the buttons for the next step.
// Cards are built from the day's data with the phone's own queued steps applied on top.
import { el, hhmm, text } from "./common.js";
import { signaturePad } from "./proof.js";

// The next steps from a status, as the server allows them (scheduled → en route accepts on the way).
export const NEXT = {
  scheduled: ["accepted", "en_route"],
  accepted: ["en_route"],
  en_route: ["on_site"],
  on_site: ["completed", "not_completed"],
};
export const ALLOWED_FROM = {
  accepted: ["scheduled"],
  en_route: ["scheduled", "accepted"],
  on_site: ["en_route"],
  completed: ["on_site"],
  not_completed: ["on_site"],
};

function stepButton(step, handlers) {
  return el("button", { type: "button", class: `step-${step}`, onclick: () => handlers.step(step) }, text.steps[step]);
}

function links(visit) {
  const request = visit.request;
  return el("div", { class: "links" },
    visit.customer.phone && el("a", { href: `tel:${visit.customer.phone}` }, text.call),
    el("a", { href: visit.links.geo, "data-testid": "geo-link" }, text.navigate),
    visit.links.map && el("a", { href: visit.links.map, target: "_blank", rel: "noopener" }, text.map),
  );
}

function earlier(visit) {
  if (!visit.earlier.length) return null;
  return el("div", { class: "earlier", "data-testid": "earlier" },
    el("b", {}, text.earlier),
    el("ul", {}, visit.earlier.map((row) => el("li", {},
      `${row.date} · ${row.number} · ${row.category_label} · ${row.status_label}`,
      row.reason_label ? ` (${row.reason_label})` : "", row.note ? ` — ${row.note}` : ""))));
}

function checklist(visit, chosen) {
  return el("fieldset", { class: "checklist" }, el("legend", {}, text.checklist),
    visit.checklist.map((item) => el("label", {},
      el("input", { type: "checkbox", value: item.code, checked: chosen.includes(item.code) }), item.label)));
}

function photoPicker(kind, handlers, thumbs) {
  return el("label", { class: "photo-pick" }, text.take_photo,
    el("input", {
      type: "file", accept: "image/*", capture: "environment", class: kind === "work" ? "photo" : "evidence",
      onchange: async (event) => {
        for (const file of event.target.files) {
          const data = await handlers.photo(file, kind);
          thumbs.append(el("img", { src: data, alt: text.photo_added }));
        }
        event.target.value = "";
      },
    }));
}

function finishPanel(visit, parts, handlers) {
  const thumbs = el("div", { class: "thumbs", "data-testid": "thumbs" });
  const used = el("ul", { class: "parts-used" }, visit.proof.parts.map((p) => el("li", {}, `${p.code} × ${p.quantity}`)));
  const partSelect = el("select", { class: "part", "aria-label": text.parts },
    el("option", { value: "" }, text.choose), parts.map((p) => el("option", { value: p.code }, `${p.name} (${p.unit})`)));
  const quantity = el("input", { type: "number", min: "0", step: "1", value: "1", class: "quantity", "aria-label": text.quantity });
  const canvas = el("canvas", { class: "signature", "aria-label": text.signature });
  const signer = el("input", { type: "text", class: "signer", maxlength: "120", placeholder: text.signer, "aria-label": text.signer });
  const note = el("textarea", { class: "finish-note", rows: "2", maxlength: "2000", "aria-label": text.note, placeholder: text.note });
  const resolution = el("select", { class: "resolution", "aria-label": text.resolution },
    el("option", { value: "" }, `${text.resolution}: ${text.choose}`),
    visit.resolutions.map((r) => el("option", { value: r.code, selected: r.code === visit.proof.resolution }, r.label)));
  const list = checklist(visit, visit.proof.checklist);
  const error = el("p", { class: "error", role: "alert" });
  let pad = null;
  const panel = el("div", { class: "panel finish", "data-testid": "finish" },
    resolution, list,
    el("b", {}, text.parts),
    el("div", { class: "parts-row" }, partSelect, quantity, el("button", {
      type: "button", class: "add-part secondary",
      onclick: () => {
        if (!partSelect.value || !(Number(quantity.value) >= 0)) return;
        handlers.parts(partSelect.value, quantity.value);
        used.append(el("li", {}, `${partSelect.value} × ${quantity.value}`));
      },
    }, text.add_part)),
    used,
    el("b", {}, text.photos), photoPicker("work", handlers, thumbs), thumbs,
    el("b", {}, text.signature), canvas, signer,
    el("button", { type: "button", class: "secondary clear-signature", onclick: () => pad && pad.clear() }, text.clear),
    note, error,
    el("button", {
      type: "button", class: "step-completed",
      onclick: () => {
        if (!resolution.value) { error.textContent = text.resolution_needed; return; }
        const ticked = [...list.querySelectorAll("input:checked")].map((box) => box.value);
        const signature = pad && !pad.isEmpty() ? pad.toDataURL("image/png") : null;
        handlers.complete({ resolution: resolution.value, checklist: ticked, signature, signer: signer.value, note: note.value });
      },
    }, text.steps.completed));
  requestAnimationFrame(() => { pad = signaturePad(canvas); });
  return panel;
}

function notDonePanel(visit, reasons, handlers) {
  const thumbs = el("div", { class: "thumbs" });
  const reason = el("select", { class: "reason", "aria-label": text.why_not },
    el("option", { value: "" }, text.why_not), reasons.map((r) => el("option", { value: r.code }, r.label)));
  const logged = el("span", { class: "muted", "data-testid": "call-logged" });
  const error = el("p", { class: "error", role: "alert" });
  return el("details", { class: "not-done" }, el("summary", {}, text.steps.not_completed),
    el("div", { class: "panel" }, reason,
      el("b", {}, text.evidence), photoPicker("evidence", handlers, thumbs), thumbs,
      el("button", { type: "button", class: "secondary log-call", onclick: () => { handlers.call(); logged.textContent = `✓ ${text.call_logged}`; } }, text.log_call),
      logged, error,
      el("button", {
        type: "button", class: "step-not_completed",
        onclick: () => {
          if (!reason.value) { error.textContent = text.reason_needed; return; }
          handlers.step("not_completed", { reason: reason.value });
        },
      }, text.steps.not_completed)));
}

export function jobCard(visit, { status, waiting }, day, handlers) {
  const request = visit.request;
  const repeat = visit.earlier.length > 0;
  const note = el("textarea", { class: "note", rows: "2", maxlength: "2000", "aria-label": text.note, placeholder: text.note });
  const card = el("article", {
    class: `card job status-${status}${waiting ? " pending" : ""}`, "data-testid": "job", dataset: { visit: visit.id },
  },
    el("header", {},
      el("b", {}, `${hhmm(visit.planned_start)}–${hhmm(visit.planned_end)}`),
      el("span", { class: `badge ${request.kind}` }, request.kind_label),
      el("span", { class: "status" }, text.statuses[status])),
    el("p", {}, el("b", {}, request.number), ` · ${request.category_label} `, repeat && el("span", { class: "repeat" }, text.repeat)),
    el("p", {}, visit.customer.name),
    el("p", { class: "address" }, request.address),
    links(visit),
    request.window_start && el("p", {}, `${text.agreed_window}: ${hhmm(request.window_start)}–${hhmm(request.window_end)} `,
      request.customer_confirmed && el("span", { class: "confirmed", "data-testid": "confirmed" }, `✓ ${text.confirmed}`)),
    request.description && el("p", { class: "muted" }, request.description),
    request.skills.length > 0 && el("p", {}, `${text.skills}: ${request.skills.join(", ")}`),
    el("details", { class: "more" }, el("summary", {}, text.details),
      earlier(visit),
      visit.note && el("p", { class: "muted note-text" }, visit.note),
      note,
      el("button", { type: "button", class: "secondary add-note", onclick: () => {
        if (note.value.trim()) { handlers.note(note.value.trim()); note.value = ""; }
      } }, text.add_note)),
    el("div", { class: "actions" }, (NEXT[status] || []).filter((s) => status !== "on_site").map((s) => stepButton(s, handlers))),
    status === "on_site" && finishPanel(visit, day.parts, handlers),
    status === "on_site" && notDonePanel(visit, day.reasons, handlers));
  return card;
}
