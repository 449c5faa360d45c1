// Draw a process instance, or a process version's heatmap, on its diagram (managers' pages).
//
// Reads the JSON named by data-diagram-url (same origin, the session cookie) and draws one
// view at a time with the bpmn-js NavigatedViewer (window.BpmnJS) through
// window.CouncilDiagram (diagram_views.js, both loaded before this file), as case_diagram.js
// does on the case file:
// - "instance": markers asb-current (a token is there now, with a black dot overlay),
//   asb-watching (a deadline or event watched) and asb-done (steps done, flows taken);
// - "heatmap": a heat marker asb-heat-1..5 per element and a badge with the count now and
//   the average time spent.
// The tables on the page say the same in words, so nothing is lost without this script.
(function () {
  "use strict";

  const box = document.querySelector("[data-diagram-url]");
  const D = window.CouncilDiagram;
  if (!box || !D || typeof window.BpmnJS !== "function") {
    return;
  }
  const canvasBox = box.querySelector("#process-diagram");
  const HEAT = ["asb-heat-1", "asb-heat-2", "asb-heat-3", "asb-heat-4", "asb-heat-5"];

  function nameOf(registry, id) {
    return D.nameOf(registry, id) || id;
  }

  function label(view, text) {
    D.labelDrawing(canvasBox, `Process diagram: ${view.label}.${text}`);
  }

  function badge(className, text) {
    const element = document.createElement("div");
    element.className = className;
    element.setAttribute("aria-hidden", "true");
    element.textContent = text;
    return element;
  }

  function markInstance(viewer, view) {
    const registry = viewer.get("elementRegistry");
    const overlays = viewer.get("overlays");
    D.markView(viewer, view);
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

  function markHeat(viewer, view) {
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

  D.mountViews({
    box,
    canvasBox,
    switcher: box.querySelector("[data-diagram-views]"),
    url: box.dataset.diagramUrl,
    clear(viewer) {
      viewer.get("overlays").remove({ type: "asb" });
      D.clearMarks(viewer, [...D.MARKERS, ...HEAT]);
    },
    // Show the busy part at a readable size when the whole diagram is too small to read.
    focus: (view, data) => (data.mode === "heatmap" ? Object.keys(view.counts || {}) : view.active),
    mark: (viewer, view, data) => (data.mode === "heatmap" ? markHeat : markInstance)(viewer, view),
  });
})();
