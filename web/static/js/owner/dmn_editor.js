// The decision table editor: dmn-js Modeler (window.DmnJS) on the page's table; saves drafts.
//
// Reads #owner-data (where the DMN XML is, where to save). Buttons switch between the
// decisions' tables. "Save as draft" posts the XML; the server keeps it as a draft version
// of the decision table.
import { readXml } from "./xml_text.js";

const box = document.querySelector("[data-owner-dmn]");
const SVG = "http://www.w3.org/2000/svg";
// The bpmn.io logo, as dmn-js draws it (its licence: the watermark stays fully visible).
const LOGO = [
  "M1.88.92v.14c0 .41-.13.68-.4.8.33.14.46.44.46.86v.33c0 .61-.33.95-.95.95H0V0h.95c.65 0 .93.3.93.92zM.63.57v1.06h.24c.24 0 .38-.1.38-.43V.98c0-.28-.1-.4-.32-.4zm0 1.63v1.22h.36c.2 0 .32-.1.32-.39v-.35c0-.37-.12-.48-.4-.48H.63zM4.18.99v.52c0 .64-.31.98-.94.98h-.3V4h-.62V0h.92c.63 0 .94.35.94.99zM2.94.57v1.35h.3c.2 0 .3-.09.3-.37v-.6c0-.29-.1-.38-.3-.38h-.3zm2.89 2.27L6.25 0h.88v4h-.6V1.12L6.1 3.99h-.6l-.46-2.82v2.82h-.55V0h.87zM8.14 1.1V4h-.56V0h.79L9 2.4V0h.56v4h-.64zm2.49 2.29v.6h-.6v-.6zM12.12 1c0-.63.33-1 .95-1 .61 0 .95.37.95 1v2.04c0 .64-.34 1-.95 1-.62 0-.95-.37-.95-1zm.62 2.08c0 .28.13.39.33.39s.32-.1.32-.4V.98c0-.29-.12-.4-.32-.4s-.33.11-.33.4z",
  "M0 4.53h14.02v1.04H0zM11.08 0h.63v.62h-.63zm.63 4V1h-.63v2.98z",
];

// dmn-js draws the bpmn.io watermark with inline style attributes, which the page's
// Content-Security-Policy refuses (and reports). In the table views this "poweredBy"
// service replaces the built-in one and watermark() draws the same watermark, styled from
// owner.css. The decision diagram (DRD) view draws its watermark as it starts, so it is not
// offered (nor the tables' "View DRD" button): each of our decision tables is one decision.
class Nothing {}
const TABLE_VIEWS = { additionalModules: [{ poweredBy: ["type", Nothing],
                                            viewDrd: ["type", Nothing] }] };

function watermark() {
  const link = document.createElement("a");
  link.href = "https://bpmn.io";
  link.target = "_blank";
  link.rel = "noopener";
  link.className = "bjs-powered-by owner-powered-by";
  link.title = "Powered by bpmn.io";
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 14.02 5.57");
  svg.setAttribute("width", "53");
  svg.setAttribute("height", "21");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Powered by bpmn.io");
  for (const d of LOGO) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("fill", "#000000");
    path.setAttribute("d", d);
    svg.appendChild(path);
  }
  link.appendChild(svg);
  return link;
}
const dataBlock = document.getElementById("owner-data");

function say(text) {
  document.getElementById("editor-status").textContent = text;
}

class DmnEditor {
  constructor(data) {
    this.data = data;
    this.canvasBox = box.querySelector("#owner-dmn-canvas");
    this.switcher = box.querySelector("[data-owner-views]");
    this.saveButton = document.getElementById("save-draft");
  }

  async start() {
    const response = await fetch(this.data.source_url, { credentials: "same-origin" });
    const xml = await readXml(response);
    box.hidden = false;
    this.modeler = new window.DmnJS({ container: this.canvasBox, decisionTable: TABLE_VIEWS,
                                      literalExpression: TABLE_VIEWS,
                                      boxedExpression: TABLE_VIEWS });
    this.watermark = watermark();
    this.canvasBox.appendChild(this.watermark);
    const { warnings } = await this.modeler.importXML(xml, { open: false });
    const first = this.views()[0];
    if (!first) {
      throw new Error("the file has no decision table");
    }
    await this.modeler.open(first);
    if (warnings.length) {
      say(`The table opened with ${warnings.length} warning${warnings.length === 1 ? "" : "s"}.`);
    } else {
      say("Ready.");
    }
    this.buttons();
    this.modeler.on("views.changed", () => this.press());
    this.saveButton.addEventListener("click", () => this.save().catch((error) => {
      this.saveButton.disabled = false;
      say(`The draft was not saved: ${error.message}. Try again.`);
    }));
  }

  views() {
    return this.modeler.getViews().filter((view) => view.type !== "drd");
  }

  buttons() {
    const buttons = this.views().map((view) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "govuk-button govuk-button--secondary";
      button.textContent = `${view.type === "decisionTable" ? "Table" : "Expression"}: ${view.name || view.id}`;
      button.dataset.view = view.id;
      button.addEventListener("click", () => this.modeler.open(view));
      return button;
    });
    this.switcher.replaceChildren(...buttons);
    this.press();
  }

  press() {
    const active = this.modeler.getActiveView();
    for (const button of this.switcher.querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(Boolean(active) && button.dataset.view === active.element.id));
    }
  }

  async save() {
    this.saveButton.disabled = true;
    say("Saving…");
    const { xml } = await this.modeler.saveXML({ format: true });
    const response = await fetch(this.data.save_url, {
      method: "POST", credentials: "same-origin", body: xml,
      headers: { "Content-Type": "application/xml", Accept: "application/json",
                 "X-CSRFToken": document.getElementById("owner-csrf").value },
    });
    const body = await response.json();
    this.saveButton.disabled = false;
    if (!response.ok) {
      say(`The draft was not saved: ${body.message}`);
      return;
    }
    const link = document.getElementById("saved-link");
    link.href = body.version_url;
    link.textContent = `See draft version ${body.version} of the decision table`;
    document.getElementById("saved").hidden = false;
    say(`Saved as draft version ${body.version}.`);
  }
}

if (box && dataBlock && typeof window.DmnJS === "function") {
  new DmnEditor(JSON.parse(dataBlock.textContent)).start().catch((error) => {
    box.hidden = true;
    document.getElementById("editor-failed").hidden = false;
    console.warn("The decision table editor could not start:", error);
  });
}
