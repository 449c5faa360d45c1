// What the pages that draw a process on its diagram share (case file, managers' instance and
// heatmap pages, the process owner's dry run): window.CouncilDiagram.
//
// Load it after the bpmn-js NavigatedViewer (window.BpmnJS) and before the page's own script.
// mountViews() fetches a page's JSON of views ({views, diagrams, current}), draws one view at
// a time and adds buttons that switch between them; the rest are helpers for marking elements,
// framing the part that matters and naming the drawing for assistive technology.
(function () {
  "use strict";

  // Where a view's lists of element ids go: the class each gets on the diagram.
  const MARKERS = [["active", "asb-current"], ["watching", "asb-watching"], ["done", "asb-done"],
                   ["flows", "asb-done"]];
  const MARKER_CLASSES = ["asb-current", "asb-watching", "asb-done"];
  const READABLE = 0.9;  // the smallest zoom at which a diagram's labels can be read

  function nameOf(registry, id) {
    const element = registry.get(id);
    const name = element && element.businessObject && element.businessObject.name;
    return name ? name.replace(/\s+/g, " ").trim() : null;
  }

  // Add each marker to the ids the drawn diagram has: marks is a list of [ids, marker].
  function markElements(viewer, marks) {
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    for (const [ids, marker] of marks) {
      for (const id of ids) {
        if (registry.get(id)) {
          canvas.addMarker(id, marker);
        }
      }
    }
  }

  // Mark a view's active, watching, done and flows lists (what is active is not also done).
  function markView(viewer, view) {
    const active = view.active || [];
    markElements(viewer, MARKERS.map(([list, marker]) => [
      (view[list] || []).filter((id) => !(list === "done" && active.includes(id))), marker]));
  }

  function clearMarks(viewer, markers) {
    const canvas = viewer.get("canvas");
    for (const element of viewer.get("elementRegistry").getAll()) {
      for (const marker of markers || MARKER_CLASSES) {
        canvas.removeMarker(element, marker);
      }
    }
  }

  // Fit the whole diagram; if that makes it too small to read, show the shapes among ids at a
  // readable size instead (the rest is a drag or an arrow key away).
  function frame(viewer, ids) {
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    canvas.zoom("fit-viewport", "auto");
    const shapes = [...ids].map((id) => registry.get(id)).filter((s) => s && !s.waypoints);
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

  // The drawing is one image to assistive technology, named for what it shows; its container
  // is not, as it also holds the bpmn.io link.
  function labelDrawing(canvasBox, label, describedBy) {
    const svg = canvasBox.querySelector(".djs-container > svg");
    if (!svg) {
      return;
    }
    svg.setAttribute("role", "img");
    if (describedBy) {
      svg.setAttribute("aria-describedby", describedBy);
    }
    svg.setAttribute("aria-label", label);
  }

  function viewButton(text, onClick) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "govuk-button govuk-button--secondary council-process__view";
    button.textContent = text;
    button.addEventListener("click", onClick);
    return button;
  }

  function showButtons(switcher, buttons) {
    const group = document.createElement("div");
    group.className = "govuk-button-group";
    group.append(...buttons);
    switcher.replaceChildren(group);
  }

  // Show the viewer's box and draw in it: bpmn-js measures its container, so it must be visible.
  function createViewer(box, canvasBox) {
    box.hidden = false;
    return new window.BpmnJS({ container: canvasBox });
  }

  // Hide the box when drawing fails: the words on the page still say everything.
  function failure(box, message) {
    return (error) => {
      box.hidden = true;
      console.warn(message, error);
    };
  }

  // Fetch options.url and draw its views in options.canvasBox, one at a time, with a button
  // per view in options.switcher; options.focus(view, data) gives the ids to frame,
  // options.mark(viewer, view, data) marks a view and options.clear(viewer) unmarks it.
  function mountViews(options) {
    const { box, canvasBox, switcher } = options;
    const clear = options.clear || ((viewer) => clearMarks(viewer));
    const failed = failure(box, "The process diagram could not be drawn:");
    let viewer = null;
    let data = null;
    let shownDiagram = null;

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
        clear(viewer);
      }
      frame(viewer, options.focus(view, data));
      options.mark(viewer, view, data);
      for (const button of switcher.querySelectorAll("button")) {
        button.setAttribute("aria-pressed", String(button.dataset.view === key));
      }
    }

    function buttons() {
      const made = [];
      for (const view of data.views) {
        if (!data.diagrams[view.diagram]) {
          continue;
        }
        const state = view.status === "now" ? " (now)" : view.status === "done" ? " (done)" : "";
        const button = viewButton(view.label + state, () => {
          show(view.key).catch(failed);
        });
        button.dataset.view = view.key;
        made.push(button);
      }
      showButtons(switcher, made);
    }

    async function start() {
      const response = await fetch(options.url, {
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
      viewer = createViewer(box, canvasBox);
      buttons();
      await show(first.key);
    }

    start().catch(failed);
  }

  window.CouncilDiagram = {
    MARKERS: MARKER_CLASSES, nameOf, markElements, markView, clearMarks, frame, labelDrawing,
    viewButton, showButtons, createViewer, failure, mountViews,
  };
})();
