// The service-point kiosk: a tap becomes an answer with its own id, queued in localStorage and
// sent until the server has it (the server counts an id once), so a short network loss loses
// nothing and a retry counts nothing twice.
const screen = document.querySelector("[data-testid=kiosk]");
const question = screen.querySelector("[data-testid=kiosk-question]");
const thanks = screen.querySelector("[data-testid=kiosk-thanks]");
const status = screen.querySelector("[data-testid=kiosk-status]");
const KEY = "surveys.kiosk.queue";
const RETRY_MS = 5000;

function queue() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || "[]");
  } catch {
    return [];
  }
}

function save(items) {
  localStorage.setItem(KEY, JSON.stringify(items));
  // "Label: N" reads right in every language: no plural form to agree with the number.
  status.textContent = items.length ? `${status.dataset.waiting}: ${items.length}` : "";
}

let flushing = false;
async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    for (const item of queue()) {
      let answer;
      try {
        answer = await fetch(screen.dataset.answerUrl, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(item),
          credentials: "omit",
        });
      } catch {
        break; // offline: try again later
      }
      if (answer.status >= 500 || answer.status === 429) break;
      // Stored (201), already stored (200), or refused for good (4xx): it leaves the queue.
      save(queue().filter((queued) => queued.client_id !== item.client_id));
    }
  } finally {
    flushing = false;
  }
}

function answer(value) {
  const item = {
    client_id: crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`,
    answers: { [question.dataset.name]: value },
    language: screen.dataset.language,
  };
  save([...queue(), item]);
  question.hidden = true;
  thanks.hidden = false;
  setTimeout(() => {
    thanks.hidden = true;
    question.hidden = false;
  }, 2500);
  flush();
}

question.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-value]");
  if (button) answer(Number(button.dataset.value));
});
window.addEventListener("online", flush);
setInterval(flush, RETRY_MS);
save(queue());
flush();
