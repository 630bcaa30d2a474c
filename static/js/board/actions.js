// The dispatcher's changes: each calls the same API an integrator would, sends the version it
// saw (a change made meanwhile by someone else is refused: 409 "stale"), and asks before it
// breaks a rule (the server checks again: 409 "rules" unless confirmed).
import { api, el, fill, problemText, text, toast } from "./common.js";

const dialog = document.getElementById("rules-dialog");

// Show what the change breaks; resolves true when the dispatcher confirms.
function confirmProblems(problems) {
  const list = document.getElementById("rules-problems");
  list.replaceChildren(...problems.map((p) => el("li", { dataset: { code: p.code } }, p.message)));
  return new Promise((resolve) => {
    const done = (answer) => {
      dialog.removeEventListener("close", onClose);
      confirm.removeEventListener("click", onConfirm);
      cancel.removeEventListener("click", onCancel);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const confirm = document.getElementById("rules-confirm");
    const cancel = document.getElementById("rules-cancel");
    const onConfirm = () => done(true);
    const onCancel = () => done(false);
    const onClose = () => done(false); // Escape
    confirm.addEventListener("click", onConfirm);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    cancel.focus();
  });
}

export class Actions {
  // board: {current(id) → the request as last seen, refresh(request) → show it as it is now}
  constructor(board) {
    this.board = board;
  }

  // The live event brings the new state to every board; this one also reads its drawer again.
  async answered(result, requestId) {
    if (result.ok) {
      toast(text.done);
      this.board.refresh(requestId);
      return true;
    }
    if (result.status === 409 && result.data.code === "stale") {
      toast(text.stale, { error: true });
      this.board.refresh(requestId, result.data.current);
      return false;
    }
    toast(fill(text.failed, { reason: problemText(result.data) || result.status }), { error: true });
    return false;
  }

  version(requestId) {
    const seen = this.board.current(requestId);
    return seen && seen.version ? { version: seen.version } : {};
  }

  // Put a request on a technician at a time: check the rules, ask, then assign.
  async assign(requestId, technicianId, start) {
    const body = { technician: Number(technicianId), start: start.toISOString() };
    const check = await api(`/api/v1/requests/${requestId}/assign/check/`, { method: "POST", body });
    if (!check.ok) return this.answered(check, requestId);
    let confirm = false;
    if (check.data.problems && check.data.problems.length) {
      if (!(await confirmProblems(check.data.problems))) return false;
      confirm = true;
    }
    const path = `/api/v1/requests/${requestId}/assign/`;
    let result = await api(path, { method: "POST", body: { ...body, confirm, ...this.version(requestId) } });
    // Something changed between the check and the change: the server says what, ask again.
    if (result.status === 409 && result.data.code === "rules" && !confirm) {
      if (!(await confirmProblems(result.data.problems || []))) return false;
      result = await api(path, { method: "POST", body: { ...body, confirm: true, ...this.version(requestId) } });
    }
    return this.answered(result, requestId);
  }

  async post(requestId, path, body) {
    const result = await api(path, { method: "POST", body: { ...body, ...this.version(requestId) } });
    return this.answered(result, requestId);
  }

  pin(requestId, visitId, pinned) {
    return this.post(requestId, `/api/v1/visits/${visitId}/pin/`, { pinned });
  }

  unassign(requestId, visitId, reason) {
    return this.post(requestId, `/api/v1/visits/${visitId}/unassign/`, { reason });
  }

  release(requestId, reason) {
    return this.post(requestId, `/api/v1/requests/${requestId}/release/`, { reason });
  }

  offerWindow(requestId, reason) {
    return this.post(requestId, `/api/v1/requests/${requestId}/offer-window/`, { reason });
  }

  escalate(requestId, escalated, reason) {
    return this.post(requestId, `/api/v1/requests/${requestId}/escalate/`, { escalated, reason });
  }
}
