// Refresh the inbox's task counts every 60 seconds from /inbox/counts.json (same-origin, session).
const REFRESH_MS = 60 * 1000;
const tabs = document.querySelector("[data-counts-url]");

async function refresh() {
  try {
    const response = await fetch(tabs.dataset.countsUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) {
      return;
    }
    const counts = await response.json();
    for (const element of document.querySelectorAll("[data-count]")) {
      const value = counts[element.dataset.count];
      if (Number.isInteger(value)) {
        element.textContent = String(value);
      }
    }
  } catch (error) {
    // Offline or signed out: keep the counts the page was drawn with.
  }
}

if (tabs) {
  window.setInterval(refresh, REFRESH_MS);
}
