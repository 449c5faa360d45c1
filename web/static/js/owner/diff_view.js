// A version's diagram with what it changes from the version in use marked, on its own page.
//
// Reads #owner-data (the two diagrams' addresses, the changes and the problems the server
// worked out) and draws with the bpmn-js NavigatedViewer (window.BpmnJS): "This version"
// marks elements added (owner-added), changed (owner-changed), only moved (owner-moved) and
// problems (owner-problem); "Version in use" marks what this version removes
// (owner-removed) and changes. The table under the diagram says the same in words.
import { readXml } from "./xml_text.js";

const box = document.querySelector("[data-owner-diagram]");
const dataBlock = document.getElementById("owner-data");

const VIEWS = [
  { key: "this", label: "This version", url: "source_url",
    marks: { added: "owner-added", changed: "owner-changed", moved: "owner-moved" } },
  { key: "live", label: "Version in use", url: "published_source_url",
    marks: { removed: "owner-removed", changed: "owner-changed" } },
];

class DiffView {
  constructor(data) {
    this.data = data;
    this.canvasBox = box.querySelector("#owner-diagram");
    this.switcher = box.querySelector("[data-owner-views]");
    this.xml = {};
  }

  views() {
    return VIEWS.filter((v) => this.data[v.url]);
  }

  async load(view) {
    if (!this.xml[view.key]) {
      const response = await fetch(this.data[view.url], { credentials: "same-origin" });
      this.xml[view.key] = await readXml(response);
    }
    return this.xml[view.key];
  }

  async show(view) {
    await this.viewer.importXML(await this.load(view));
    const canvas = this.viewer.get("canvas");
    const registry = this.viewer.get("elementRegistry");
    canvas.zoom("fit-viewport", "auto");
    const counts = {};
    for (const change of this.data.changes) {
      const marker = view.marks[change.kind];
      if (marker && registry.get(change.element_id)) {
        canvas.addMarker(change.element_id, marker);
        counts[change.kind] = (counts[change.kind] || 0) + 1;
      }
    }
    if (view.key === "this") {
      for (const problem of this.data.problems) {
        if (registry.get(problem.element_id)) {
          canvas.addMarker(problem.element_id, "owner-problem");
        }
      }
    }
    const words = Object.entries(counts).map(([kind, n]) => `${n} ${kind}`).join(", ");
    const svg = this.canvasBox.querySelector(".djs-container > svg");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `Diagram of ${view.label.toLowerCase()}`
      + `${words ? `, marked: ${words}` : ""}. The table below lists the changes in words.`);
    for (const button of this.switcher.querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(button.dataset.view === view.key));
    }
  }

  buttons() {
    const views = this.views();
    if (views.length < 2) {
      return;
    }
    const buttons = views.map((view) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "govuk-button govuk-button--secondary";
      button.dataset.view = view.key;
      button.textContent = view.label;
      button.addEventListener("click", () => this.show(view).catch(failed));
      return button;
    });
    this.switcher.replaceChildren(...buttons);
  }

  async start() {
    box.hidden = false;  // bpmn-js measures its container: it must be visible first
    this.viewer = new window.BpmnJS({ container: this.canvasBox });
    this.buttons();
    await this.show(this.views()[0]);
  }
}

function failed(error) {
  box.hidden = true;  // the table says the same in words
  console.warn("The diagram could not be drawn:", error);
}

if (box && dataBlock && typeof window.BpmnJS === "function") {
  new DiffView(JSON.parse(dataBlock.textContent)).start().catch(failed);
}
