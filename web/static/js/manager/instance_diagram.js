// Draw a process instance, or a process version's heatmap, on its diagram (managers' pages).
//
// Reads the JSON named by data-diagram-url (same origin, the session cookie) and draws one
// view at a time with the bpmn-js NavigatedViewer (window.BpmnJS, loaded before this file),
// as case_diagram.js does on the case file:
// - "instance": markers asb-current (a token is there now, with a black dot overlay),
//   asb-watching (a deadline or event watched) and asb-done (steps done, flows taken);
// - "heatmap": a heat marker asb-heat-1..5 per element and a badge with the count now and
//   the average time spent.
// The tables on the page say the same in words, so nothing is lost without this script.
(function () {
  "use strict";

  const box = document.querySelector("[data-diagram-url]");
  if (!box || typeof window.BpmnJS !== "function") {
    return;
  }
  const canvasBox = box.querySelector("#process-diagram");
  const switcher = box.querySelector("[data-diagram-views]");
  const MARKERS = [["active", "asb-current"], ["watching", "asb-watching"], ["done", "asb-done"],
                   ["flows", "asb-done"]];
  const HEAT = ["asb-heat-1", "asb-heat-2", "asb-heat-3", "asb-heat-4", "asb-heat-5"];
  const READABLE = 0.9;  // the smallest zoom at which a diagram's labels can be read
  let viewer = null;
  let data = null;
  let shownDiagram = null;

  function nameOf(registry, id) {
    const element = registry.get(id);
    const name = element && element.businessObject && element.businessObject.name;
    return name ? name.replace(/\s+/g, " ").trim() : id;
  }

  function label(view, text) {
    const svg = canvasBox.querySelector(".djs-container > svg");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `Process diagram: ${view.label}.${text}`);
  }

  function badge(className, text) {
    const element = document.createElement("div");
    element.className = className;
    element.setAttribute("aria-hidden", "true");
    element.textContent = text;
    return element;
  }

  function markInstance(view) {
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    const overlays = viewer.get("overlays");
    for (const [list, marker] of MARKERS) {
      for (const id of view[list] || []) {
        if (registry.get(id) && !(list === "done" && view.active.includes(id))) {
          canvas.addMarker(id, marker);
        }
      }
    }
    for (const id of view.active) {
      const shape = registry.get(id);
      if (shape && !shape.waypoints) {
        overlays.add(id, "asb", { position: { top: -9, right: 9 },
                                  html: badge("asb-token", "") });
      }
    }
    const now = view.active.map((id) => nameOf(registry, id));
    label(view, now.length ? ` A token marks where the process is now: ${now.join("; ")}.`
                           : " No token is on this diagram now.");
  }

  function markHeat(view) {
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    const overlays = viewer.get("overlays");
    const busy = [];
    for (const [id, cell] of Object.entries(view.counts || {})) {
      const shape = registry.get(id);
      if (!shape || shape.waypoints) {
        continue;
      }
      if (cell.level) {
        canvas.addMarker(id, HEAT[cell.level - 1]);
        busy.push(`${nameOf(registry, id)}: ${cell.now + cell.incidents}`);
      }
      const parts = [];
      if (cell.now) {
        parts.push(`${cell.now} now`);
      }
      if (cell.incidents) {
        parts.push(`${cell.incidents} failed`);
      }
      if (cell.average) {
        parts.push(`avg ${cell.average}`);
      }
      if (parts.length) {
        const kind = cell.incidents ? " asb-heat-badge--failed" : "";
        overlays.add(id, "asb", { position: { bottom: 4, left: 0 },
                                  html: badge(`asb-heat-badge${kind}`, parts.join(" · ")) });
      }
    }
    label(view, busy.length ? ` Instances now: ${busy.join("; ")}.` : " No instance is here now.");
  }

  function clear() {
    const canvas = viewer.get("canvas");
    viewer.get("overlays").remove({ type: "asb" });
    for (const element of viewer.get("elementRegistry").getAll()) {
      for (const marker of [...MARKERS.map((m) => m[1]), ...HEAT]) {
        canvas.removeMarker(element, marker);
      }
    }
  }

  // Fit the whole diagram; if that makes it too small to read, show the busy part instead.
  function frame(view) {
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    canvas.zoom("fit-viewport", "auto");
    const ids = data.mode === "heatmap" ? Object.keys(view.counts || {}) : view.active;
    const shapes = ids.map((id) => registry.get(id)).filter((s) => s && !s.waypoints);
    if (canvas.zoom() >= READABLE || !shapes.length) {
      return;
    }
    const left = Math.min(...shapes.map((s) => s.x));
    const top = Math.min(...shapes.map((s) => s.y));
    const right = Math.max(...shapes.map((s) => s.x + s.width));
    const bottom = Math.max(...shapes.map((s) => s.y + s.height));
    const outer = canvas.viewbox().outer;
    const width = outer.width / READABLE;
    const height = outer.height / READABLE;
    canvas.viewbox({ x: (left + right - width) / 2, y: (top + bottom - height) / 2,
                     width, height });
  }

  async function show(key) {
    const view = data.views.find((v) => v.key === key);
    const xml = view && data.diagrams[view.diagram];
    if (!xml) {
      return;
    }
    if (shownDiagram !== view.diagram) {
      await viewer.importXML(xml);
      shownDiagram = view.diagram;
    } else {
      clear();
    }
    frame(view);
    if (data.mode === "heatmap") {
      markHeat(view);
    } else {
      markInstance(view);
    }
    for (const button of switcher.querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(button.dataset.view === key));
    }
  }

  function buttons() {
    const group = document.createElement("div");
    group.className = "govuk-button-group";
    for (const view of data.views) {
      if (!data.diagrams[view.diagram]) {
        continue;
      }
      const button = document.createElement("button");
      const state = view.status === "now" ? " (now)" : view.status === "done" ? " (done)" : "";
      button.type = "button";
      button.className = "govuk-button govuk-button--secondary council-process__view";
      button.dataset.view = view.key;
      button.textContent = view.label + state;
      button.addEventListener("click", () => {
        show(view.key).catch(failed);
      });
      group.appendChild(button);
    }
    switcher.replaceChildren(group);
  }

  function failed(error) {
    box.hidden = true;
    console.warn("The process diagram could not be drawn:", error);
  }

  async function start() {
    const response = await fetch(box.dataset.diagramUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) {
      throw new Error(`the server answered ${response.status}`);
    }
    data = await response.json();
    const first = data.views.find((v) => v.key === data.current) || data.views[0];
    if (!first || !data.diagrams[first.diagram]) {
      return;
    }
    box.hidden = false;  // bpmn-js measures its container: it must be visible first
    viewer = new window.BpmnJS({ container: canvasBox });
    buttons();
    await show(first.key);
  }

  start().catch(failed);
})();
