// Loads the web chat widget of one inbox (its website token in the URL fragment) into this
// page, which the Inboxes settings page shows in an iframe as a live preview.

const token = decodeURIComponent(location.hash.slice(1));
const lang = new URLSearchParams(location.search).get("lang");
if (token) {
  const script = document.createElement("script");
  script.src = "/widget.js";
  script.dataset.websiteToken = token;
  if (lang) script.dataset.locale = lang;
  document.body.appendChild(script);
}
