// Rocca: the little behaviour the pages share. No inline script anywhere (CSP): pages opt in with
// data attributes.

// A form or submit button with data-confirm="question" asks before submitting (e.g. revoking a device).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const message = event.submitter?.dataset.confirm || form.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
