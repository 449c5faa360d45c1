// The properties panel: what our engine uses on the selected element, as a GOV.UK form.
//
// Each field commits on "change" (leaving the field, Enter, or choosing an option), through
// one undoable command (bpmn_model.js). The choices come from the page's catalog: the task
// forms, the registered service operations, the roles, the processes and decision tables,
// and the helper functions expressions may call.
import {
  Writer, bodyOf, eventDefinition, findExtension, isType, laneOf, processOf, spiffProperty,
} from "./bpmn_model.js";

const PARAM_TYPES = ["str", "int", "float", "bool", "dict", "list", "any"];
const TIMER_KINDS = [["timeDate", "A date and time (deadline)"],
                     ["timeDuration", "A duration from when it starts waiting"],
                     ["timeCycle", "A repeating cycle"]];
const CATCHES = ["bpmn:StartEvent", "bpmn:IntermediateCatchEvent", "bpmn:BoundaryEvent"];

export function typeWords(node) {
  const local = (node && node.$type ? node.$type.split(":")[1] : "element");
  return local.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

export function labelOf(element) {
  const node = element.businessObject;
  const name = node && node.name ? node.name.replace(/\s+/g, " ").trim() : "";
  return name || element.id;
}

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

export class Panel {
  constructor(modeler, root, catalog) {
    this.modeler = modeler;
    this.root = root;
    this.fields = root.querySelector("[data-panel-fields]");
    this.picker = root.querySelector("[data-panel-picker]");
    this.catalog = catalog;
    this.writer = new Writer(modeler);
    this.registry = modeler.get("elementRegistry");
    this.element = null;
    this.committing = false;
    this.pending = null;
    const events = modeler.get("eventBus");
    events.on("selection.changed", ({ newSelection }) => {
      this.show(newSelection.length === 1 ? newSelection[0] : null);
    });
    events.on("commandStack.changed", () => {
      this.fillPicker();
      if (!this.committing) {
        this.refreshSoon();
      }
    });
    this.picker.addEventListener("change", () => {
      const element = this.registry.get(this.picker.value);
      if (element) {
        this.select(element);
      }
    });
  }

  // Select ``element`` on the canvas (the panel follows), scrolled into view.
  select(element) {
    const canvas = this.modeler.get("canvas");
    if (element.waypoints || element !== canvas.getRootElement()) {
      canvas.scrollToElement(element);
    }
    this.modeler.get("selection").select(element);
  }

  elements() {
    const root = this.modeler.get("canvas").getRootElement();
    return this.registry.filter((e) => e.type !== "label" && e !== root && e.businessObject
      && !e.businessObject.$instanceOf("bpmndi:BPMNPlane"))
      .sort((a, b) => labelOf(a).localeCompare(labelOf(b)));
  }

  fillPicker() {
    const chosen = this.element ? this.element.id : "";
    const options = [make("option", "", "The process as a whole")];
    options[0].value = "";
    for (const element of this.elements()) {
      const option = make("option", "", `${labelOf(element)} (${typeWords(element.businessObject)})`);
      option.value = element.id;
      options.push(option);
    }
    this.picker.replaceChildren(...options);
    this.picker.value = this.registry.get(chosen) ? chosen : "";
  }

  show(element) {
    this.element = element || this.modeler.get("canvas").getRootElement();
    this.fillPicker();
    this.render();
  }

  refreshSoon() {
    if (this.pending) {
      return;
    }
    this.pending = window.setTimeout(() => {
      this.pending = null;
      if (this.element && !this.registry.get(this.element.id)) {
        this.element = null;
      }
      const focused = document.activeElement && this.fields.contains(document.activeElement)
        ? document.activeElement.id : null;
      this.render();
      const again = focused && document.getElementById(focused);
      if (again) {
        again.focus();
      }
    }, 0);
  }

  commit(change, restructure = false) {
    this.committing = true;
    try {
      change();
    } finally {
      this.committing = false;
    }
    if (restructure) {
      this.refreshSoon();
    }
  }

  // -- form controls (GOV.UK Frontend classes) ----------------------------------------------

  group(id, label, hint, control) {
    const box = make("div", "govuk-form-group");
    const text = make("label", "govuk-label govuk-label--s", label);
    text.htmlFor = id;
    box.appendChild(text);
    if (hint) {
      const help = make("div", "govuk-hint", hint);
      help.id = `${id}-hint`;
      control.setAttribute("aria-describedby", help.id);
      box.appendChild(help);
    }
    control.id = id;
    box.appendChild(control);
    return box;
  }

  text(id, label, value, commit, { hint = "", code = false, rows = 0 } = {}) {
    const input = rows ? make("textarea", "govuk-textarea") : make("input", "govuk-input");
    if (rows) {
      input.rows = rows;
    } else {
      input.type = "text";
    }
    if (code) {
      input.classList.add("owner-code-input");
      input.spellcheck = false;
      input.autocomplete = "off";
    }
    input.value = value || "";
    input.name = id;
    input.addEventListener("change", () => this.commit(() => commit(input.value.trim())));
    return this.group(id, label, hint, input);
  }

  choice(id, label, options, value, commit, { hint = "", empty = "None" } = {}) {
    const select = make("select", "govuk-select");
    select.name = id;
    const known = new Set(options.map(([v]) => v));
    const all = empty === null ? [...options] : [["", empty], ...options];
    if (value && !known.has(value)) {
      all.push([value, `${value} (not known here)`]);
    }
    for (const [optionValue, text] of all) {
      const option = make("option", "", text);
      option.value = optionValue;
      select.appendChild(option);
    }
    select.value = value || "";
    select.addEventListener("change", () => this.commit(() => commit(select.value), true));
    return this.group(id, label, hint, select);
  }

  check(id, label, checked, commit, hint = "") {
    const box = make("div", "govuk-checkboxes govuk-checkboxes--small");
    const item = make("div", "govuk-checkboxes__item");
    const input = make("input", "govuk-checkboxes__input");
    input.type = "checkbox";
    input.id = id;
    input.name = id;
    input.checked = Boolean(checked);
    const text = make("label", "govuk-label govuk-checkboxes__label", label);
    text.htmlFor = id;
    item.append(input, text);
    if (hint) {
      const help = make("div", "govuk-hint govuk-checkboxes__hint", hint);
      help.id = `${id}-hint`;
      input.setAttribute("aria-describedby", help.id);
      item.appendChild(help);
    }
    box.appendChild(item);
    input.addEventListener("change", () => this.commit(() => commit(input.checked), true));
    const group = make("div", "govuk-form-group");
    group.appendChild(box);
    return group;
  }

  fact(label, value) {
    const row = make("div", "govuk-summary-list__row");
    row.append(make("dt", "govuk-summary-list__key", label),
               make("dd", "govuk-summary-list__value", value));
    return row;
  }

  section(title) {
    const box = make("fieldset", "govuk-fieldset owner-panel__section");
    box.appendChild(make("legend", "govuk-fieldset__legend govuk-fieldset__legend--s", title));
    return box;
  }

  helperHint(prefix) {
    const names = this.catalog.helpers.map((h) => h.call).join(", ");
    return `${prefix} Functions you can call: ${names} (see "Functions expressions can call" below the diagram).`;
  }

  // -- the panel ----------------------------------------------------------------------------

  render() {
    const element = this.element || this.modeler.get("canvas").getRootElement();
    const node = element.businessObject;
    const parts = [];
    const root = element === this.modeler.get("canvas").getRootElement();
    const heading = make("h3", "govuk-heading-s owner-panel__title",
                         root ? "The process as a whole" : labelOf(element));
    parts.push(heading);
    const facts = make("dl", "govuk-summary-list govuk-summary-list--no-border owner-panel__facts");
    facts.appendChild(this.fact("Type", typeWords(node)));
    if (!root) {
      facts.appendChild(this.fact("Id", element.id));
    }
    const lane = laneOf(element, this.registry);
    if (lane) {
      facts.appendChild(this.fact("Lane (role)", lane.name || lane.id));
    }
    parts.push(facts);
    const process = processOf(element);
    if (isType(node, "bpmn:Lane")) {
      parts.push(this.laneFields(element));
    } else if (!root && !isType(node, "bpmn:Process") && !isType(node, "bpmn:Collaboration")) {
      parts.push(this.text("prop-name", "Name", node.name, (value) => {
        this.writer.modeling.updateLabel(element, value || null);
      }, { hint: "What people see on the diagram and in their task list." }));
    }
    if (process) {
      parts.push(...this.processFields(element, process));
    }
    if (isType(node, "bpmn:UserTask")) {
      parts.push(...this.userTaskFields(element));
    }
    if (isType(node, "bpmn:ServiceTask")) {
      parts.push(this.serviceFields(element));
    }
    if (isType(node, "bpmn:ScriptTask")) {
      parts.push(this.text("prop-script", "Script", node.script, (value) => {
        this.writer.modeling.updateProperties(element, { script: value || undefined });
      }, { code: true, rows: 6, hint: "Python the engine runs in its sandbox." }));
    }
    if (isType(node, "bpmn:BusinessRuleTask")) {
      const decisions = this.catalog.decisions.map((d) => [d.id, `${d.name} (${d.id})`]);
      parts.push(this.choice("prop-decision", "Decision table", decisions,
        bodyOf(node, "spiffworkflow:CalledDecisionId"),
        (value) => this.writer.setBody(element, "spiffworkflow:CalledDecisionId", value),
        { hint: "The table this task evaluates with the case data.", empty: "Choose a table" }));
    }
    if (isType(node, "bpmn:CallActivity")) {
      const processes = this.catalog.processes.map((p) => [p.id, `${p.name} (${p.id})`]);
      parts.push(this.choice("prop-called", "Called process", processes, node.calledElement,
        (value) => this.writer.modeling.updateProperties(element, {
          calledElement: value || undefined }),
        { hint: "The process this step runs as a stage of the case.", empty: "Choose a process" }));
    }
    parts.push(...this.eventFields(element));
    if (isType(node, "bpmn:SequenceFlow")) {
      parts.push(...this.flowFields(element));
    }
    if (isType(node, "bpmn:ExclusiveGateway") || isType(node, "bpmn:InclusiveGateway")) {
      parts.push(this.gatewayFields(element));
    }
    this.fields.replaceChildren(...parts);
  }

  laneFields(element) {
    const roles = this.catalog.roles.map((r) => [r.value, `${r.label} (${r.value})`]);
    return this.choice("prop-role", "Role", roles, element.businessObject.name,
      (value) => this.writer.modeling.updateProperties(element, { name: value || undefined }),
      { hint: "Lanes are roles: the user tasks drawn in this lane are offered to people in it.",
        empty: "Choose a role" });
  }

  processFields(element, process) {
    const commit = (properties) => this.writer.run(
      [this.writer.update(element, process, properties)]);
    return [
      this.text("prop-process-name", "Process name", process.name,
                (value) => commit({ name: value || undefined })),
      this.check("prop-executable", "The engine may run this process", process.isExecutable,
                 (checked) => commit({ isExecutable: checked }),
                 "Only processes marked this way can be published."),
    ];
  }

  userTaskFields(element) {
    const node = element.businessObject;
    const forms = this.catalog.forms.map((f) => [f.key, `${f.title} (${f.key})`]);
    const set = (name) => (value) => this.writer.setSpiffProperty(element, name, value);
    return [
      this.choice("prop-form", "Form", forms, spiffProperty(node, "form"), set("form"),
                  { hint: "What the person completing the task fills in.",
                    empty: "No form (choose one)" }),
      this.text("prop-assignee", "Assignee", spiffProperty(node, "assignee"), set("assignee"),
                { code: true, hint: "An expression giving a user name, e.g. case_officer. Empty: anyone in the lane's role." }),
      this.text("prop-due", "Deadline", spiffProperty(node, "due"), set("due"),
                { code: true, hint: this.helperHint("An expression giving when the task is due, e.g. due_after_working_days(received_at, 5).") }),
    ];
  }

  serviceFields(element) {
    const node = element.businessObject;
    const operator = findExtension(node, "spiffworkflow:ServiceTaskOperator");
    const box = this.section("What the system does");
    const ops = this.catalog.operators.map((o) => [o.name, o.summary ? `${o.name} – ${o.summary}` : o.name]);
    const current = operator ? operator.id : "";
    box.appendChild(this.choice("prop-operator", "Operation", ops, current,
      (value) => this.writer.setOperator(element, { id: value }),
      { hint: "A step the product provides; the diagram cannot run one it does not.",
        empty: "Choose an operation" }));
    const known = this.catalog.operators.find((o) => o.name === current);
    if (known && known.params.length) {
      const words = known.params.map((p) => `${p.name}${p.required ? " (required)" : ""}`);
      box.appendChild(make("p", "govuk-body-s", `It takes: ${words.join(", ")}.`));
    } else if (known) {
      box.appendChild(make("p", "govuk-body-s", "It takes no parameters: it reads the case data."));
    }
    box.appendChild(this.text("prop-result", "Result variable", operator && operator.resultVariable,
      (value) => this.writer.setOperator(element, { resultVariable: value || undefined }),
      { code: true, hint: "Where the step's result is kept in the case data." }));
    const params = (operator && operator.parameters && operator.parameters.get("parameters")) || [];
    params.forEach((param, index) => box.appendChild(this.parameterRow(element, param, index)));
    const add = make("button", "govuk-button govuk-button--secondary govuk-!-margin-bottom-0",
                     "Add a parameter");
    add.type = "button";
    add.id = "prop-param-add";
    add.addEventListener("click", () => this.commit(() => this.writer.addParameter(element), true));
    box.appendChild(add);
    return box;
  }

  parameterRow(element, param, index) {
    const row = make("div", "owner-panel__param");
    const update = (properties) => this.writer.run(
      [this.writer.update(element, param, properties)]);
    row.append(
      this.text(`prop-param-${index}-id`, `Parameter ${index + 1} name`, param.id,
                (value) => update({ id: value })),
      this.choice(`prop-param-${index}-type`, `Parameter ${index + 1} type`,
                  PARAM_TYPES.map((t) => [t, t]), param.type || "str",
                  (value) => update({ type: value || "str" }), { empty: null }),
      this.text(`prop-param-${index}-value`, `Parameter ${index + 1} value`, param.value,
                (value) => update({ value }), { code: true, hint: "An expression over the case data." }));
    const remove = make("button", "govuk-button govuk-button--warning govuk-!-margin-bottom-2",
                        `Remove parameter ${index + 1}`);
    remove.type = "button";
    remove.id = `prop-param-${index}-remove`;
    remove.addEventListener("click", () => this.commit(
      () => this.writer.removeParameter(element, param), true));
    row.appendChild(remove);
    return row;
  }

  eventFields(element) {
    const node = element.businessObject;
    const parts = [];
    const timer = eventDefinition(node, "bpmn:TimerEventDefinition");
    if (timer) {
      const kind = ["timeDate", "timeDuration", "timeCycle"].find((k) => timer[k]) || "timeDate";
      const text = timer[kind] ? timer[kind].body : "";
      const box = this.section("Timer");
      box.appendChild(this.choice("prop-timer-kind", "When it fires", TIMER_KINDS, kind,
        (value) => this.writer.setTimer(element, value || "timeDate", text), { empty: null }));
      box.appendChild(this.text("prop-timer", "Timer expression", text,
        (value) => this.writer.setTimer(element, kind, value),
        { code: true, hint: this.helperHint("A date such as due_after_working_days(received_at, 1) or a data field such as first_contact_due; a duration or cycle in quotes, such as \"P10D\" or \"R/P10D\".") }));
      parts.push(box);
    }
    const message = eventDefinition(node, "bpmn:MessageEventDefinition");
    const holder = message || (isType(node, "bpmn:ReceiveTask") || isType(node, "bpmn:SendTask") ? node : null);
    if (holder) {
      const box = this.section("Message");
      const names = this.messageNames().map((n) => [n, n]);
      const current = holder.messageRef ? holder.messageRef.name || holder.messageRef.id : "";
      box.appendChild(this.choice("prop-message", "Message", names, current,
        (value) => this.writer.setMessage(element, holder, value),
        { hint: "The message this waits for or sends, by name.", empty: "Choose a message" }));
      box.appendChild(this.text("prop-message-new", "Or a new message name", "",
        (value) => value && this.commit(() => this.writer.setMessage(element, holder, value), true),
        { code: true, hint: "Adds a message with this name to the diagram." }));
      if (message && CATCHES.some((t) => isType(node, t))) {
        box.appendChild(this.text("prop-message-variable", "Message data goes into",
          bodyOf(message, "spiffworkflow:MessageVariable"),
          (value) => this.writer.setBody(element, "spiffworkflow:MessageVariable", value, message),
          { code: true, hint: "The case data field that receives what the message carries." }));
      }
      parts.push(box);
    }
    if (isType(node, "bpmn:BoundaryEvent")) {
      parts.push(this.check("prop-interrupting", "Stops the task it is attached to",
        node.cancelActivity !== false,
        (checked) => this.writer.modeling.updateProperties(element, { cancelActivity: checked }),
        "Leave unticked for a reminder or escalation that lets the task carry on."));
    }
    return parts;
  }

  messageNames() {
    const definitions = this.modeler.getDefinitions();
    return (definitions.get("rootElements") || [])
      .filter((r) => isType(r, "bpmn:Message")).map((m) => m.name || m.id).sort();
  }

  flowFields(element) {
    const node = element.businessObject;
    const source = node.sourceRef;
    if (!source || !(isType(source, "bpmn:ExclusiveGateway") || isType(source, "bpmn:InclusiveGateway"))) {
      return [];
    }
    const gateway = this.registry.get(source.id);
    const isDefault = source.default === node;
    const parts = [this.check("prop-default", "Take this path when no condition holds",
      isDefault, (checked) => this.writer.setDefaultFlow(gateway, checked ? node : null),
      "The gateway's default path needs no condition.")];
    if (!isDefault) {
      parts.push(this.text("prop-condition", "Condition",
        node.conditionExpression ? node.conditionExpression.body : "",
        (value) => this.writer.setCondition(element, value),
        { code: true, rows: 2, hint: "A Python expression over the case data, e.g. priority == 1. The path is taken when it is true." }));
    }
    return parts;
  }

  gatewayFields(element) {
    const node = element.businessObject;
    const flows = (node.outgoing || []).map((f) => [f.id, f.name ? `${f.name} (${f.id})` : f.id]);
    return this.choice("prop-gateway-default", "Default path", flows,
      node.default ? node.default.id : "",
      (value) => this.writer.setDefaultFlow(element,
        (node.outgoing || []).find((f) => f.id === value) || null),
      { hint: "Taken when no condition holds. Every other path needs a condition.",
        empty: "No default path" });
  }
}
