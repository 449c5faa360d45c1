// Problems found in the diagram, on their elements (markers and a count badge) and in lists.
//
// Two sources: the server's checks (the engine's and the product's rules; these stop a
// draft from being published) and bpmnlint's recommended modelling rules, run in the
// browser (advice). Each list item is a link that selects its element and shows its
// properties, so the problem can be fixed from the keyboard.
import { labelOf, typeWords } from "./panel.js";

const MARKERS = { server: "owner-problem", lint: "owner-advice" };
const WORDS = { server: ["problem", "problems"], lint: ["piece of advice", "pieces of advice"] };

function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

export class Problems {
  constructor(modeler, lists, onPick) {
    this.modeler = modeler;
    this.lists = lists;  // {server: {list, summary}, lint: {list, summary}}
    this.onPick = onPick;
    this.found = { server: [], lint: [] };
  }

  set(source, problems) {
    this.found[source] = problems;
    this.draw();
  }

  // bpmnlint's reports ({rule: [{id, message, category}]}) as our problems.
  async lint() {
    const lint = window.BpmnLint;
    if (!lint) {
      return;
    }
    // A new linter each time: some rules remember what they saw (duplicate flows).
    const linter = new lint.Linter({ config: lint.config, resolver: lint.resolver });
    const reports = await linter.lint(this.modeler.getDefinitions());
    const found = [];
    for (const [rule, items] of Object.entries(reports)) {
      for (const item of items) {
        found.push({ element_id: item.id || "", element_type: "", message: item.message,
                     rule, severity: item.category === "error" ? "error" : "warning" });
      }
    }
    this.set("lint", found);
  }

  clear() {
    const overlays = this.modeler.get("overlays");
    const canvas = this.modeler.get("canvas");
    overlays.remove({ type: "owner-problems" });
    for (const element of this.modeler.get("elementRegistry").getAll()) {
      for (const marker of Object.values(MARKERS)) {
        canvas.removeMarker(element, marker);
      }
    }
  }

  draw() {
    this.clear();
    const registry = this.modeler.get("elementRegistry");
    const canvas = this.modeler.get("canvas");
    const perElement = new Map();
    for (const source of ["lint", "server"]) {
      for (const problem of this.found[source]) {
        const element = registry.get(problem.element_id);
        if (!element || element === canvas.getRootElement()) {
          continue;
        }
        canvas.addMarker(element, MARKERS[source]);
        const seen = perElement.get(element.id) || { element, server: 0, lint: 0 };
        seen[source] += 1;
        perElement.set(element.id, seen);
      }
    }
    for (const { element, server, lint } of perElement.values()) {
      this.badge(element, server, lint);
    }
    for (const source of ["server", "lint"]) {
      this.list(source);
    }
  }

  badge(element, server, lint) {
    const badge = make("span", `owner-badge ${server ? "owner-badge--problem" : "owner-badge--advice"}`,
                       String(server || lint));
    badge.setAttribute("aria-hidden", "true");  // the lists say the same, with links
    const position = element.waypoints ? { top: -10, left: -10 } : { top: -10, right: 10 };
    this.modeler.get("overlays").add(element, "owner-problems", { position, html: badge });
  }

  list(source) {
    const { list, summary, none } = this.lists[source];
    const registry = this.modeler.get("elementRegistry");
    const items = this.found[source].map((problem) => {
      const item = make("li", `owner-problems__item owner-problems__item--${problem.severity}`);
      item.dataset.elementId = problem.element_id;
      const element = registry.get(problem.element_id);
      const where = element ? `${labelOf(element)} (${typeWords(element.businessObject)})`
        : problem.element_id || "The diagram";
      if (element) {
        const link = make("a", "govuk-link", where);
        link.href = `#element-${problem.element_id}`;
        link.addEventListener("click", (event) => {
          event.preventDefault();
          this.onPick(element);
        });
        item.appendChild(link);
      } else {
        item.appendChild(make("strong", "", where));
      }
      item.appendChild(document.createTextNode(`: ${problem.message}`));
      return item;
    });
    list.replaceChildren(...items);
    const count = items.length;
    summary.textContent = count === 0 ? none : `${count} ${WORDS[source][count === 1 ? 0 : 1]}`;
  }

  get serverCount() {
    return this.found.server.filter((p) => p.severity === "error").length;
  }
}
