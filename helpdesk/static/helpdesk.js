// Rocca helpdesk: remote images in mail stay blocked until the reader asks for them. The server
// moved every remote image address into data-remote-src; a click on the button of one message
// copies those addresses back into src, for that message only. No inline script (CSP).

function loadImages(button) {
  const box = document.getElementById(button.dataset.loadImages);
  if (!box) return;
  for (const img of box.querySelectorAll("img[data-remote-src]")) {
    const src = img.dataset.remoteSrc || "";
    if (/^https?:\/\//i.test(src)) img.src = src;
    img.removeAttribute("data-remote-src");
  }
  button.hidden = true;
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-load-images]");
  if (button) loadImages(button);
});
