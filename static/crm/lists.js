// "Select every row on this page" on the list pages. Without JavaScript the box stays hidden
// and rows are ticked one by one; htmx swaps in new rows, so the box is revealed after each swap.
function revealSelectAll(root) {
  for (const box of root.querySelectorAll("input[data-select-all]")) box.hidden = false;
}

document.addEventListener("DOMContentLoaded", () => revealSelectAll(document));
document.addEventListener("htmx:afterSettle", (event) => revealSelectAll(event.target));
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!box.matches || !box.matches("input[data-select-all]") || !box.form) return;
  for (const row of box.form.querySelectorAll("input[type=checkbox]")) {
    if (row.name === box.dataset.selectAll) row.checked = box.checked;
  }
});
