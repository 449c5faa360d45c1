// Show a dry run step by step on the process diagrams, on the dry run page.
//
// Reads the trace from the JSON block #dry-run-data (diagrams by file, the file of each
// process, and per step the elements that ran, the flows taken, where work stands and the
// deadlines watched), draws one diagram at a time with the bpmn-js NavigatedViewer
// (window.BpmnJS) through window.CouncilDiagram (diagram_views.js, both loaded before this
// file) and marks the step: asb-current (where work stands after it), asb-done (everything
// done so far and the paths taken), asb-watching (deadlines watched). Previous/next buttons move through the steps; buttons under them
// switch to another diagram the step touched; each step in the list below gets a button
// that shows it here. The list says everything in words, so nothing is lost without this.
(function () {
  "use strict";

  const box = document.querySelector("[data-dry-run]");
  const source = document.getElementById("dry-run-data");
  const D = window.CouncilDiagram;
  if (!box || !source || !D || typeof window.BpmnJS !== "function") {
    return;
  }
  const data = JSON.parse(source.textContent);
  const steps = data.steps || [];
  const canvasBox = box.querySelector("#dry-run-diagram");
  const status = box.querySelector("[data-dry-run-status]");
  const previous = box.querySelector("[data-dry-run-previous]");
  const next = box.querySelector("[data-dry-run-next]");
  const switcher = box.querySelector("[data-dry-run-views]");
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

  function describe(step, current) {
    const registry = viewer.get("elementRegistry");
    const now = [...current].filter((id) => registry.get(id))
      .map((id) => D.nameOf(registry, id) || id);
    const at = now.length ? ` Work stands at: ${now.join("; ")}.` : "";
    D.labelDrawing(canvasBox,
      `Diagram of ${nameOfProcess(process)} after step ${step.number}: ${step.title}${at}`,
      `dry-run-step-${step.number}`);
  }

  // The processes a step touched that have a diagram, the step's focus first.
  function touched(step) {
    const names = new Set([step.focus, ...Object.keys(step.ran || {}),
                           ...Object.keys(step.current || {})]);
    return [...names].filter((p) => p && data.process_files[p]);
  }

  function views(step) {
    D.showButtons(switcher, touched(step).map((p) => {
      const button = D.viewButton(nameOfProcess(p), () => {
        show(index, p).catch(failed);
      });
      button.setAttribute("aria-pressed", String(p === process));
      return button;
    }));
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
      D.clearMarks(viewer);
    }
    const processes = processesIn(file);
    const current = collect(step, "current", processes);
    const done = [...doneSoFar(index, processes)].filter((id) => !current.has(id));
    D.markElements(viewer, [[current, "asb-current"],
                            [collect(step, "watching", processes), "asb-watching"],
                            [done, "asb-done"]]);
    D.frame(viewer, current);
    describe(step, current);
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

  const failed = D.failure(box, "The dry run could not be drawn:");  // the list says everything

  async function start() {
    if (!steps.length) {
      return;
    }
    viewer = D.createViewer(box, canvasBox);
    previous.addEventListener("click", () => show(index - 1).catch(failed));
    next.addEventListener("click", () => show(index + 1).catch(failed));
    listButtons();
    await show(0);
  }

  start().catch(failed);
})();
