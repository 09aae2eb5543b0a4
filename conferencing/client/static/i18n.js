// Texts of the meeting page. They come from the server's catalog, in the page's language, as a
// JSON block (not executable, so the CSP allows it): the client holds no text of its own.

const strings = JSON.parse(document.getElementById("meeting-i18n")?.textContent || "{}");

// t returns the text for key with each %s or %d replaced by the next argument.
export function t(key, ...args) {
  let s = strings[key] ?? key;
  for (const a of args) s = s.replace(/%[sd]/, String(a));
  return s;
}
