// Show a dry run step by step on the process diagrams, on the dry run page.
//
// Reads the trace from the JSON block #dry-run-data (diagrams by file, the file of each
// process, and per step the elements that ran, the flows taken, where work stands and the
// deadlines watched), draws one diagram at a time with the bpmn-js NavigatedViewer
// (window.BpmnJS, loaded before this file) and marks the step: asb-current (where work
// stands after it), asb-done (everything done so far and the paths taken), asb-watching
// (deadlines watched). Previous/next buttons move through the steps; buttons under them
// switch to another diagram the step touched; each step in the list below gets a button
// that shows it here. The list says everything in words, so nothing is lost without this.
(function () {
  "use strict";

  const box = document.querySelector("[data-dry-run]");
  const source = document.getElementById("dry-run-data");
  if (!box || !source || typeof window.BpmnJS !== "function") {
    return;
  }
  const data = JSON.parse(source.textContent);
  const steps = data.steps || [];
  const canvasBox = box.querySelector("#dry-run-diagram");
  const status = box.querySelector("[data-dry-run-status]");
  const previous = box.querySelector("[data-dry-run-previous]");
  const next = box.querySelector("[data-dry-run-next]");
  const switcher = box.querySelector("[data-dry-run-views]");
  const MARKERS = ["asb-current", "asb-done", "asb-watching"];
  const READABLE = 0.9;
  let viewer = null;
  let shownFile = null;
  let index = 0;
  let process = null;

  function nameOfProcess(id) {
    return (data.process_names && data.process_names[id]) || id;
  }

  function processesIn(file) {
    return Object.keys(data.process_files).filter((p) => data.process_files[p] === file);
  }

  function collect(step, key, processes) {
    const found = new Set();
    for (const p of processes) {
      for (const id of (step[key] && step[key][p]) || []) {
        found.add(id);
      }
    }
    return found;
  }

  // Everything done up to and including step ``upTo`` in the processes drawn in ``file``.
  function doneSoFar(upTo, processes) {
    const done = new Set();
    for (let i = 0; i <= upTo; i += 1) {
      for (const key of ["ran", "flows"]) {
        collect(steps[i], key, processes).forEach((id) => done.add(id));
      }
    }
    return done;
  }

  function nameOf(registry, id) {
    const element = registry.get(id);
    const name = element && element.businessObject && element.businessObject.name;
    return name ? name.replace(/\s+/g, " ").trim() : id;
  }

  function describe(step, current, registry) {
    const svg = canvasBox.querySelector(".djs-container > svg");
    if (!svg) {
      return;
    }
    const now = [...current].filter((id) => registry.get(id)).map((id) => nameOf(registry, id));
    const at = now.length ? ` Work stands at: ${now.join("; ")}.` : "";
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-describedby", `dry-run-step-${step.number}`);
    svg.setAttribute("aria-label",
      `Diagram of ${nameOfProcess(process)} after step ${step.number}: ${step.title}${at}`);
  }

  function clearMarks() {
    const canvas = viewer.get("canvas");
    for (const element of viewer.get("elementRegistry").getAll()) {
      for (const marker of MARKERS) {
        canvas.removeMarker(element, marker);
      }
    }
  }

  function frame(current) {
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    canvas.zoom("fit-viewport", "auto");
    const shapes = [...current].map((id) => registry.get(id)).filter((s) => s && !s.waypoints);
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

  // The processes a step touched that have a diagram, the step's focus first.
  function touched(step) {
    const names = new Set([step.focus, ...Object.keys(step.ran || {}),
                           ...Object.keys(step.current || {})]);
    return [...names].filter((p) => p && data.process_files[p]);
  }

  function views(step) {
    const group = document.createElement("div");
    group.className = "govuk-button-group";
    for (const p of touched(step)) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "govuk-button govuk-button--secondary council-process__view";
      button.textContent = nameOfProcess(p);
      button.setAttribute("aria-pressed", String(p === process));
      button.addEventListener("click", () => {
        show(index, p).catch(failed);
      });
      group.appendChild(button);
    }
    switcher.replaceChildren(group);
  }

  function highlightListItem(step) {
    for (const item of document.querySelectorAll("#dry-run-steps > li")) {
      if (item.id === `dry-run-step-${step.number}`) {
        item.setAttribute("aria-current", "step");
      } else {
        item.removeAttribute("aria-current");
      }
    }
  }

  async function show(at, wanted) {
    index = Math.max(0, Math.min(at, steps.length - 1));
    const step = steps[index];
    const choices = touched(step);
    process = wanted || choices[0] || process;  // the step's focus, else the last one shown
    const file = data.process_files[process];
    if (!file || !data.diagrams[file]) {
      return;
    }
    if (shownFile !== file) {
      await viewer.importXML(data.diagrams[file]);
      shownFile = file;
    } else {
      clearMarks();
    }
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    const processes = processesIn(file);
    const current = collect(step, "current", processes);
    const marks = [[current, "asb-current"], [collect(step, "watching", processes), "asb-watching"],
                   [doneSoFar(index, processes), "asb-done"]];
    for (const [ids, marker] of marks) {
      for (const id of ids) {
        if (registry.get(id) && !(marker === "asb-done" && current.has(id))) {
          canvas.addMarker(id, marker);
        }
      }
    }
    frame(current);
    describe(step, current, registry);
    status.textContent = `Step ${step.number} of ${steps.length}: ${step.title}`;
    previous.disabled = index === 0;
    next.disabled = index === steps.length - 1;
    views(step);
    highlightListItem(step);
  }

  function listButtons() {
    steps.forEach((step, i) => {
      const item = document.getElementById(`dry-run-step-${step.number}`);
      if (!item || !touched(step).length) {
        return;
      }
      const button = document.createElement("button");
      button.type = "button";
      button.className = "govuk-button govuk-button--secondary govuk-!-margin-bottom-2";
      button.textContent = `Show step ${step.number} on the diagram`;
      button.addEventListener("click", () => {
        show(i).then(() => box.scrollIntoView()).catch(failed);
      });
      item.querySelector("h4").after(button);
    });
  }

  function failed(error) {
    box.hidden = true;  // the list of steps still says everything
    console.warn("The dry run could not be drawn:", error);
  }

  async function start() {
    if (!steps.length) {
      return;
    }
    box.hidden = false;  // bpmn-js measures its container: it must be visible first
    viewer = new window.BpmnJS({ container: canvasBox });
    previous.addEventListener("click", () => show(index - 1).catch(failed));
    next.addEventListener("click", () => show(index + 1).catch(failed));
    listButtons();
    await show(0);
  }

  start().catch(failed);
})();
