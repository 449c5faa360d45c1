// Draw where a case stands on its process diagram, on the case file page.
//
// Reads the JSON of GET /cases/<reference>/process (same-origin, the session cookie), draws
// one view at a time with the bpmn-js NavigatedViewer (window.BpmnJS) through
// window.CouncilDiagram (diagram_views.js, both loaded before this file) and marks its
// elements: asb-current (open now), asb-watching (a deadline or event watched), asb-done
// (done, and the sequence flows taken). Buttons switch between the whole case and the stages
// it called. The list under the diagram says the same in words, so nothing is lost when this
// script, or the diagram, cannot run.
(function () {
  "use strict";

  const box = document.querySelector("[data-process-url]");
  const D = window.CouncilDiagram;
  if (!box || !D || typeof window.BpmnJS !== "function") {
    return;
  }
  const canvasBox = box.querySelector("#process-diagram");

  function describe(view, viewer) {
    const registry = viewer.get("elementRegistry");
    const now = view.active.map((id) => D.nameOf(registry, id)).filter(Boolean);
    const where = view.label === view.name ? view.name : `${view.label} (${view.name})`;
    const at = now.length ? ` Highlighted as the current step: ${now.join("; ")}.` : "";
    D.labelDrawing(canvasBox,
      `Process diagram: ${where}.${at} The list below the diagram says where the case stands.`,
      "process-steps");
  }

  D.mountViews({
    box,
    canvasBox,
    switcher: box.querySelector("[data-process-views]"),
    url: box.dataset.processUrl,
    // Show the current step at a readable size when the whole diagram is too small to read.
    focus: (view) => view.active,
    mark(viewer, view) {
      D.markView(viewer, view);
      describe(view, viewer);
    },
  });
})();
