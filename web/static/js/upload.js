// Upload progress for evidence files (videos run to 100 MB). Without this script the form
// posts as usual; with it, the same form is sent by XMLHttpRequest so the officer sees how
// much has gone. Success follows the server's redirect; a refusal shows the server's own
// re-drawn form (error summary, field messages) in place of this one.
const form = document.querySelector("form[data-upload-progress]");

function showProgress(panel, bar, text, sent, total) {
  const percent = total > 0 ? Math.floor((sent / total) * 100) : 0;
  panel.hidden = false;
  bar.value = percent;
  text.textContent = `${percent}% sent`;
}

function replaceForm(html) {
  const fresh = new DOMParser().parseFromString(html, "text/html");
  const incoming = fresh.querySelector("main");
  const current = document.querySelector("main");
  if (!incoming || !current) {
    return false;
  }
  current.replaceChildren(...Array.from(incoming.childNodes, (node) => document.importNode(node, true)));
  document.title = fresh.title;
  const summary = current.querySelector(".govuk-error-summary");
  if (summary) {
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }
  const again = current.querySelector("form[data-upload-progress]");
  if (again) {
    attach(again);
  }
  return true;
}

function attach(target) {
  const panel = document.getElementById("upload-progress");
  const bar = panel && panel.querySelector("progress");
  const text = panel && panel.querySelector("[data-progress-text]");
  if (!panel || !bar || !text || typeof XMLHttpRequest === "undefined") {
    return;
  }
  target.addEventListener("submit", (event) => {
    event.preventDefault();
    const button = target.querySelector("button[type=submit], button:not([type])");
    if (button) {
      button.disabled = true;
    }
    const request = new XMLHttpRequest();
    request.open("POST", target.action);
    request.upload.addEventListener("progress", (progress) => {
      if (progress.lengthComputable) {
        showProgress(panel, bar, text, progress.loaded, progress.total);
      }
    });
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300 && request.responseURL !== target.action) {
        // XMLHttpRequest drops a redirect's #fragment: the form names the one to land on.
        const fragment = target.dataset.uploadProgress || "";
        const url = new URL(request.responseURL);
        if (!url.hash && fragment.startsWith("#")) {
          url.hash = fragment;
        }
        window.location.assign(url.toString());
        return;
      }
      if (!replaceForm(request.responseText)) {
        target.submit();
      }
    });
    request.addEventListener("error", () => {
      text.textContent = "The file could not be sent. Check your connection and try again.";
      if (button) {
        button.disabled = false;
      }
    });
    request.send(new FormData(target));
  });
}

if (form) {
  attach(form);
}
