// The outbox: every change the technician makes is an action in IndexedDB first (with its own
// id and the phone's time), then replayed to the server in order when the network answers. The
// server applies each id once, so a replay that runs twice (a retry, two tabs) changes nothing.
import { post, uuid } from "./common.js";

const BATCH_BYTES = 1800000; // one request stays under the server's body limit
const BATCH_ACTIONS = 20;

const dbReady = idb.openDB("phone-outbox", 1, {
  upgrade(db) {
    db.createObjectStore("actions", { keyPath: "seq", autoIncrement: true });
    db.createObjectStore("rejected", { keyPath: "client_id" });
    db.createObjectStore("kept", { keyPath: "key" });
  },
});

export async function queue(fields) {
  const action = { client_id: uuid(), at: new Date().toISOString(), ...fields };
  await (await dbReady).add("actions", action);
  return action;
}

export async function pending() {
  return (await dbReady).getAll("actions"); // in key order: the order they were made
}

export async function rejected() {
  return (await dbReady).getAll("rejected");
}

export async function dismiss(clientId) {
  await (await dbReady).delete("rejected", clientId);
}

export async function keep(key, value) {
  await (await dbReady).put("kept", { key, value });
}

export async function kept(key) {
  const row = await (await dbReady).get("kept", key);
  return row ? row.value : null;
}

function batchOf(actions) {
  const batch = [];
  let bytes = 0;
  for (const { seq, ...action } of actions) {
    const size = JSON.stringify(action).length;
    if (batch.length && (bytes + size > BATCH_BYTES || batch.length >= BATCH_ACTIONS)) break;
    batch.push({ seq, action });
    bytes += size;
  }
  return batch;
}

// Replays run one at a time per phone (tabs included, where the browser has Web Locks).
let running = null;
export function replay(handlers) {
  if (running) return running;
  const run = () => replayNow(handlers);
  running = (navigator.locks ? navigator.locks.request("phone-outbox", run) : run()).finally(() => {
    running = null;
  });
  return running;
}

// Returns "synced", "offline" (the network did not answer; try later) or "signed_out".
async function replayNow({ onGuard, onProgress }) {
  const db = await dbReady;
  for (;;) {
    const actions = await db.getAll("actions");
    onProgress(actions.length);
    if (!actions.length) return "synced";
    const batch = batchOf(actions);
    let response;
    try {
      response = await post("/api/v1/me/actions/", { actions: batch.map((b) => b.action) });
    } catch (error) {
      return "offline";
    }
    if (response.status === 401 || response.status === 403) return "signed_out";
    if (!response.ok) return "offline";
    const { results } = await response.json();
    const bySeq = new Map(batch.map((b) => [b.action.client_id, b]));
    for (const result of results) {
      const entry = bySeq.get(result.client_id);
      if (!entry) continue;
      if (result.outcome === "applied" || result.outcome === "duplicate") {
        await db.delete("actions", entry.seq);
      } else if (result.outcome === "conflict" || result.outcome === "invalid") {
        // Never dropped silently: the technician sees it until they dismiss it (and
        // dispatchers see it in the request's history).
        await db.put("rejected", { ...summary(entry.action), detail: result.detail || result.code });
        await db.delete("actions", entry.seq);
      } else if (result.outcome === "guard") {
        const answer = await onGuard(entry.action, result.problems || []);
        if (answer) await db.put("actions", { ...entry.action, seq: entry.seq, confirm: true, why: answer });
        else {
          await db.put("rejected", { ...summary(entry.action), detail: result.detail });
          await db.delete("actions", entry.seq);
        }
        break; // the rest of the batch waits for this one
      }
    }
  }
}

function summary(action) {
  return { client_id: action.client_id, kind: action.kind, to: action.to || "", visit: action.visit, at: action.at };
}
