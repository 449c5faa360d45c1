// Draw where a case stands on its process diagram, on the case file page.
//
// Reads the JSON of GET /cases/<reference>/process (same-origin, the session cookie), draws
// one view at a time with the bpmn-js NavigatedViewer (window.BpmnJS, loaded before this
// file) and marks its elements: asb-current (open now), asb-watching (a deadline or event
// watched), asb-done (done, and the sequence flows taken). Buttons switch between the whole
// case and the stages it called. The list under the diagram says the same in words, so
// nothing is lost when this script, or the diagram, cannot run.
(function () {
  "use strict";

  const box = document.querySelector("[data-process-url]");
  if (!box || typeof window.BpmnJS !== "function") {
    return;
  }
  const canvasBox = box.querySelector("#process-diagram");
  const switcher = box.querySelector("[data-process-views]");
  const MARKERS = [["active", "asb-current"], ["watching", "asb-watching"], ["done", "asb-done"],
                   ["flows", "asb-done"]];
  const READABLE = 0.9;  // the smallest zoom at which a diagram's labels can be read
  let viewer = null;
  let data = null;
  let shownDiagram = null;

  function nameOf(registry, id) {
    const element = registry.get(id);
    const name = element && element.businessObject && element.businessObject.name;
    return name ? name.replace(/\s+/g, " ").trim() : null;
  }

  // The drawing is one image to assistive technology, named for what it shows; its container
  // is not, as it also holds the bpmn.io link.
  function describe(view, registry) {
    const now = view.active.map((id) => nameOf(registry, id)).filter(Boolean);
    const where = view.label === view.name ? view.name : `${view.label} (${view.name})`;
    const at = now.length ? ` Highlighted as the current step: ${now.join("; ")}.` : "";
    const svg = canvasBox.querySelector(".djs-container > svg");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-describedby", "process-steps");
    svg.setAttribute("aria-label",
      `Process diagram: ${where}.${at} The list below the diagram says where the case stands.`);
  }

  function mark(view) {
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    for (const [list, marker] of MARKERS) {
      for (const id of view[list] || []) {
        if (registry.get(id) && !(list === "done" && view.active.includes(id))) {
          canvas.addMarker(id, marker);
        }
      }
    }
    describe(view, registry);
  }

  function clearMarks() {
    const canvas = viewer.get("canvas");
    for (const element of viewer.get("elementRegistry").getAll()) {
      for (const [, marker] of MARKERS) {
        canvas.removeMarker(element, marker);
      }
    }
  }

  // Fit the whole diagram; if that makes it too small to read, show the current step at a
  // readable size instead (the rest is a drag or an arrow key away).
  function frame(view) {
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    canvas.zoom("fit-viewport", "auto");
    const shapes = view.active.map((id) => registry.get(id)).filter((s) => s && !s.waypoints);
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

  function press(key) {
    for (const button of switcher.querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(button.dataset.view === key));
    }
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
      clearMarks();
    }
    frame(view);
    mark(view);
    press(key);
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
    // The words under the diagram still say where the case stands.
    box.hidden = true;
    console.warn("The process diagram could not be drawn:", error);
  }

  async function start() {
    const response = await fetch(box.dataset.processUrl, {
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
