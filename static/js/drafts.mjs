// Draft-keeping for long notes: every textarea marked data-lw-draft is copied to sessionStorage as the
// user types, and put back if the page is reloaded or opened again in the same tab before it is saved.
// sessionStorage (not localStorage) so nothing clinical outlives the tab on a shared computer.
const PREFIX = "lw-draft:";

function keyFor(field) {
  return `${PREFIX}${window.location.pathname}#${field.name}`;
}

export function keepDrafts(root = document) {
  const fields = root.querySelectorAll("textarea[data-lw-draft]");
  fields.forEach((field) => {
    const key = keyFor(field);
    const saved = window.sessionStorage.getItem(key);
    if (saved && !field.value.trim()) {
      field.value = saved;
      field.dispatchEvent(new Event("input", { bubbles: true })); // updates any character count
    }
    field.addEventListener("input", () => {
      if (field.value.trim()) {
        window.sessionStorage.setItem(key, field.value);
      } else {
        window.sessionStorage.removeItem(key);
      }
    });
    if (field.form) {
      field.form.addEventListener("submit", () => window.sessionStorage.removeItem(key));
    }
  });
}
