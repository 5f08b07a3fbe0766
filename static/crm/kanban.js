// The deal board: drag a card (HTML5 drag and drop) onto another column and the move is saved at
// once, without reloading the page. The server answers with the card as it is now and the totals
// of every column, which replace those on the page; a refused move puts the card back and says
// why. Dropping on a lost column opens the deal's "lost" form, since a lost deal needs its reason.
// No inline script and no eval (the page's CSP forbids both); the CSRF token is the page's own.
(() => {
  "use strict";

  const board = document.querySelector("[data-kanban]");
  if (!board) return;
  const csrfToken = board.querySelector("input[name=csrfmiddlewaretoken]")?.value ?? "";
  const status = document.getElementById("kanban-status");
  let dragged = null;

  const columnOf = (node) => (node instanceof Element ? node.closest("[data-stage]") : null);

  function say(text, isError) {
    if (!status) return;
    status.textContent = text;
    status.classList.remove("d-none", "alert-success", "alert-danger");
    status.classList.add(isError ? "alert-danger" : "alert-success");
  }

  function unmark() {
    for (const column of board.querySelectorAll(".kanban-drop-target")) column.classList.remove("kanban-drop-target");
  }

  function apply(html, card) {
    const answer = new DOMParser().parseFromString(html, "text/html");
    const fresh = answer.querySelector("[data-moved-card] [data-deal]");
    if (!fresh) throw new Error(board.dataset.errorText);
    for (const summary of answer.querySelectorAll("[data-column-summary]")) {
      const old = board.querySelector(`[data-column-summary="${CSS.escape(summary.dataset.columnSummary)}"]`);
      if (old) old.replaceWith(document.importNode(summary, true));
    }
    const node = document.importNode(fresh, true);
    card.replaceWith(node);
    return node;
  }

  async function move(card, column) {
    const origin = { list: card.parentElement, next: card.nextElementSibling };
    // Shown at once where it was dropped (the top: the most recently changed deal comes first).
    column.querySelector("[data-cards]").prepend(card);
    card.setAttribute("aria-busy", "true");
    const body = new FormData();
    body.append("stage", column.dataset.stage);
    try {
      const response = await fetch(card.dataset.moveUrl, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken, "X-Kanban": "1" },
      });
      const text = await response.text();
      if (!response.ok) throw new Error(text.trim() || board.dataset.errorText);
      const node = apply(text, card);
      const name = node.querySelector("a")?.textContent ?? "";
      const stage = column.querySelector("[data-column-summary] h2 span")?.textContent ?? "";
      say(`${name} → ${stage}`, false);
    } catch (error) {
      origin.list.insertBefore(card, origin.next);
      card.removeAttribute("aria-busy");
      say(error instanceof Error && error.message ? error.message : board.dataset.errorText, true);
    }
  }

  board.addEventListener("dragstart", (event) => {
    const card = event.target instanceof Element ? event.target.closest("[data-deal][draggable=true]") : null;
    if (!card || card.getAttribute("aria-busy") === "true") return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.deal);
    card.classList.add("kanban-dragging");
  });

  board.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("kanban-dragging");
    dragged = null;
    unmark();
  });

  board.addEventListener("dragover", (event) => {
    const column = columnOf(event.target);
    if (!dragged || !column) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!column.classList.contains("kanban-drop-target")) {
      unmark();
      column.classList.add("kanban-drop-target");
    }
  });

  board.addEventListener("dragleave", (event) => {
    const column = columnOf(event.target);
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("kanban-drop-target");
  });

  board.addEventListener("drop", (event) => {
    const column = columnOf(event.target);
    const card = dragged;
    if (!card || !column) return;
    event.preventDefault();
    unmark();
    card.classList.remove("kanban-dragging");
    dragged = null;
    if (column === columnOf(card)) return;
    if (column.dataset.stageKind === "lost") {
      window.location.assign(`${card.dataset.loseUrl}?stage=${encodeURIComponent(column.dataset.stage)}`);
      return;
    }
    move(card, column);
  });
})();
