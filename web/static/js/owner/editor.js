// The process owner's BPMN editor: bpmn-js Modeler, our properties panel, live checks, drafts.
//
// Reads the page's JSON (#owner-data): where the XML is, where to check and save it, and the
// catalog the properties panel offers. While the diagram is edited, bpmnlint's recommended
// rules run in the browser and, a moment after the last change, the server checks the XML
// with the engine's and the product's rules; both are shown on the elements and listed.
// "Save as draft" posts the XML; the server keeps it as a new draft version.
import { keepUndrawnLayout, registerCommands } from "./bpmn_model.js";
import { Panel } from "./panel.js";
import { Problems } from "./problems.js";
import { readXml } from "./xml_text.js";

const CHECK_DELAY = 700;
const box = document.querySelector("[data-owner-editor]");
const dataBlock = document.getElementById("owner-data");

function say(text) {
  document.getElementById("editor-status").textContent = text;
}

async function fetchOk(url, options = {}) {
  const response = await fetch(url, { credentials: "same-origin", ...options });
  if (!response.ok) {
    throw new Error(`the server answered ${response.status}`);
  }
  return response;
}

function postXml(url, xml) {
  return fetch(url, {
    method: "POST", credentials: "same-origin", body: xml,
    headers: { "Content-Type": "application/xml", Accept: "application/json",
               "X-CSRFToken": document.getElementById("owner-csrf").value },
  });
}

// Import warnings about SpiffWorkflow extensions the editor does not know: saving would drop them.
function lostExtensions(warnings) {
  return warnings.map((w) => /unparsable content <([^>\s]+)/.exec(w.message || ""))
    .filter((m) => m && m[1].startsWith("spiffworkflow:")).map((m) => m[1]);
}

function describeCanvas(canvasBox, name) {
  const svg = canvasBox.querySelector(".djs-container > svg");
  if (svg) {
    svg.setAttribute("aria-label", `Diagram editor: ${name}. Choose an element with the `
      + "element list in the properties panel; its properties are edited there.");
  }
}

class Editor {
  constructor(data) {
    this.data = data;
    this.basedOn = data.version.id;
    this.sequence = 0;
    this.timer = null;
    this.canvasBox = box.querySelector("#owner-canvas");
    this.saveButton = document.getElementById("save-draft");
  }

  async start() {
    const [descriptor, xml] = await Promise.all([
      fetchOk(this.data.descriptor_url).then((r) => r.json()),
      fetch(this.data.source_url, { credentials: "same-origin" }).then(readXml),
    ]);
    box.hidden = false;  // bpmn-js measures its container: it must be visible first
    this.modeler = new window.BpmnJS({ container: this.canvasBox,
                                      moddleExtensions: { spiffworkflow: descriptor } });
    registerCommands(this.modeler);
    keepUndrawnLayout(this.modeler);
    const { warnings } = await this.modeler.importXML(xml);
    this.reportImport(warnings);
    this.modeler.get("canvas").zoom("fit-viewport", "auto");
    describeCanvas(this.canvasBox, this.data.version.process_id);
    const panelRoot = document.getElementById("owner-panel");
    this.panel = new Panel(this.modeler, panelRoot, this.data.catalog);
    this.panel.show(null);
    this.problems = new Problems(this.modeler, {
      server: { list: document.getElementById("server-problems"),
                summary: document.getElementById("server-summary"),
                none: "No problems: the engine can run this diagram." },
      lint: { list: document.getElementById("lint-problems"),
              summary: document.getElementById("lint-summary"),
              none: "No advice: the diagram follows the modelling rules." },
    }, (element) => this.pick(element));
    this.modeler.on("commandStack.changed", () => {
      say("Unsaved changes. Checking…");
      this.scheduleCheck();
    });
    this.saveButton.addEventListener("click", () => this.save().catch((error) => {
      this.saveButton.disabled = false;
      say(`The draft was not saved: ${error.message}. Try again.`);
    }));
    for (const [id, action] of [["zoom-in", 1.25], ["zoom-out", 0.8], ["zoom-fit", 0]]) {
      document.getElementById(id).addEventListener("click", () => this.zoom(action));
    }
    await this.check();
    say("Ready. Changes are checked as you make them.");
  }

  reportImport(warnings) {
    const lost = lostExtensions(warnings);
    const box = document.getElementById("import-warnings");
    if (!warnings.length) {
      return;
    }
    const items = warnings.map((w) => {
      const item = document.createElement("li");
      item.textContent = (w.message || String(w)).split("\n")[0];
      return item;
    });
    box.querySelector("ul").replaceChildren(...items);
    box.hidden = false;
    if (lost.length) {
      this.saveButton.disabled = true;
      box.querySelector("p").textContent = "This diagram uses extensions the editor cannot keep "
        + `(${[...new Set(lost)].join(", ")}): saving it here would lose them, so saving is `
        + "turned off. Import the file instead.";
    }
  }

  zoom(factor) {
    const canvas = this.modeler.get("canvas");
    if (factor) {
      canvas.zoom(canvas.zoom() * factor);
    } else {
      canvas.zoom("fit-viewport", "auto");
    }
  }

  pick(element) {
    this.panel.select(element);
    const heading = document.querySelector("#owner-panel .owner-panel__title");
    if (heading) {
      heading.tabIndex = -1;
      heading.focus();
    }
  }

  scheduleCheck() {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => {
      this.check().catch((error) => say(`The diagram could not be checked: ${error.message}`));
    }, CHECK_DELAY);
  }

  async check() {
    const sequence = ++this.sequence;
    await this.problems.lint();
    const { xml } = await this.modeler.saveXML();
    const response = await postXml(this.data.check_url, xml);
    const body = await response.json();
    if (sequence !== this.sequence) {
      return;  // a newer change is being checked
    }
    this.problems.set("server", response.ok ? body.problems : [
      { element_id: "", element_type: "", message: body.message, rule: "file", severity: "error" }]);
    say(`Checked: ${this.summary()}.`);
  }

  summary() {
    const count = this.problems.serverCount;
    return count ? `${count} problem${count === 1 ? "" : "s"} to fix before publishing`
      : "no problems found";
  }

  async save() {
    this.saveButton.disabled = true;
    window.clearTimeout(this.timer);  // the save answers with the problems of what it saved
    this.sequence += 1;  // and a check still under way would answer for an older state
    say("Saving…");
    const { xml } = await this.modeler.saveXML({ format: true });
    const response = await postXml(`${this.data.save_url}?based_on=${this.basedOn}`, xml);
    const body = await response.json();
    this.saveButton.disabled = false;
    if (!response.ok) {
      say(`The draft was not saved: ${body.message}`);
      return;
    }
    this.basedOn = body.id;
    this.problems.set("server", body.problems);
    const link = document.getElementById("saved-link");
    link.href = body.version_url;
    link.textContent = `Review the changes and publish draft version ${body.version}`;
    document.getElementById("saved").hidden = false;
    window.history.replaceState(null, "", body.edit_url);
    say(`Saved as draft version ${body.version}: ${this.summary()}.`);
  }
}

if (box && dataBlock && typeof window.BpmnJS === "function") {
  const editor = new Editor(JSON.parse(dataBlock.textContent));
  editor.start().catch((error) => {
    box.hidden = true;
    document.getElementById("editor-failed").hidden = false;
    console.warn("The editor could not start:", error);
  });
}
