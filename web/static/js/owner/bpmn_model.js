// Reading and writing what our engine uses on a BPMN element, through the bpmn-js modeler.
//
// The XML is the one our shipped diagrams use (bpmn/*.bpmn, SpiffWorkflow's extensions):
//   user task      <spiffworkflow:properties> with property form / assignee / due
//   service task   <spiffworkflow:serviceTaskOperator id="op" resultVariable="...">
//                    <spiffworkflow:parameters><spiffworkflow:parameter id type value/>
//   business rule  <spiffworkflow:calledDecisionId>decision</spiffworkflow:calledDecisionId>
//   message catch  <bpmn:messageEventDefinition messageRef> with <spiffworkflow:messageVariable>
//   timer          <bpmn:timerEventDefinition><bpmn:timeDate|timeDuration|timeCycle>
//   condition      <bpmn:conditionExpression> on a sequence flow; default flow on the gateway
//   call activity  calledElement; lane name = the role of the tasks drawn in it
// Every change goes through one command (commandStack "owner.multi-command"), so Ctrl+Z
// undoes it in one step and the diagram's own change events fire as for any edit.

export const SPIFF_URI = "http://spiffworkflow.org/bpmn/schema/1.0/core";

function MultiCommandHandler(commandStack) {
  this.preExecute = (commands) => {
    for (const { cmd, context } of commands) {
      commandStack.execute(cmd, context);
    }
  };
}
MultiCommandHandler.$inject = ["commandStack"];

export function registerCommands(modeler) {
  modeler.get("commandStack").registerHandler("owner.multi-command", MultiCommandHandler);
}

// bpmn-js re-orders each plane's layout (DI) on save from what it drew, and so drops the
// layout of anything it did not draw (a process no pool refers to, an edge that names no
// element). Those are put back, after the drawn ones, so saving loses no layout.
export function keepUndrawnLayout(modeler) {
  const events = modeler.get("eventBus");
  const canvas = modeler.get("canvas");
  let before = [];
  events.on("saveXML.start", 3000, () => {
    before = canvas.getRootElements().map((root) => root.di).filter(Boolean)
      .map((plane) => [plane, [...(plane.get("planeElement") || [])]]);
  });
  events.on("saveXML.start", 1000, () => {
    const kept = new Set(before.flatMap(([plane]) => plane.get("planeElement") || []));
    for (const [plane, elements] of before) {
      const dropped = elements.filter((di) => !kept.has(di));
      if (dropped.length) {
        plane.set("planeElement", [...(plane.get("planeElement") || []), ...dropped]);
      }
    }
  });
}

export function isType(node, type) {
  return Boolean(node && node.$instanceOf && node.$instanceOf(type));
}

export function extensions(node) {
  return (node && node.extensionElements && node.extensionElements.get("values")) || [];
}

export function findExtension(node, type) {
  return extensions(node).find((value) => value.$type === type);
}

export function eventDefinition(node, type) {
  return ((node && node.eventDefinitions) || []).find((def) => isType(def, type));
}

export function spiffProperty(node, name) {
  const props = findExtension(node, "spiffworkflow:Properties");
  const found = props && props.get("properties").find((p) => p.name === name);
  return found ? found.value || "" : "";
}

export function bodyOf(node, type) {
  const found = findExtension(node, type);
  return found ? found.value || "" : "";
}

// The innermost lane that lists ``element`` among its flow nodes (its role), if any.
export function laneOf(element, registry) {
  const node = element.businessObject;
  if (!isType(node, "bpmn:FlowNode")) {
    return null;
  }
  const lanes = registry.filter((e) => isType(e.businessObject, "bpmn:Lane")
    && (e.businessObject.get("flowNodeRef") || []).includes(node));
  return lanes.length ? lanes.map((e) => e.businessObject)
    .find((lane) => !lane.childLaneSet) || lanes[0].businessObject : null;
}

export function definitionsOf(modeler) {
  return modeler.getDefinitions();
}

// The process the root element stands for: itself, or the first participant's process.
export function processOf(element) {
  const node = element.businessObject;
  if (isType(node, "bpmn:Process")) {
    return node;
  }
  if (isType(node, "bpmn:Participant")) {
    return node.processRef || null;
  }
  if (isType(node, "bpmn:Collaboration")) {
    const first = (node.participants || []).find((p) => p.processRef);
    return first ? first.processRef : null;
  }
  return null;
}

export class Writer {
  constructor(modeler) {
    this.modeler = modeler;
    this.moddle = modeler.get("moddle");
    this.commandStack = modeler.get("commandStack");
    this.modeling = modeler.get("modeling");
  }

  update(element, node, properties) {
    return { cmd: "element.updateModdleProperties",
             context: { element, moddleElement: node, properties } };
  }

  run(commands) {
    if (commands.length) {
      this.commandStack.execute("owner.multi-command", commands);
    }
  }

  create(type, properties, parent) {
    const node = this.moddle.create(type, properties);
    node.$parent = parent;
    return node;
  }

  // The element's <bpmn:extensionElements>, created (by a command in ``commands``) if missing.
  extensionsOf(element, node, commands) {
    let ext = node.extensionElements;
    if (!ext) {
      ext = this.create("bpmn:ExtensionElements", { values: [] }, node);
      commands.push(this.update(element, node, { extensionElements: ext }));
    }
    return ext;
  }

  // Find or add one extension of ``type``; commands that add it are pushed to ``commands``.
  extension(element, node, type, properties, commands) {
    const ext = this.extensionsOf(element, node, commands);
    let found = ext.get("values").find((value) => value.$type === type);
    if (!found) {
      found = this.create(type, properties, ext);
      commands.push(this.update(element, ext, { values: [...ext.get("values"), found] }));
    }
    return found;
  }

  removeExtension(element, node, type, commands) {
    const ext = node.extensionElements;
    if (ext && ext.get("values").some((value) => value.$type === type)) {
      commands.push(this.update(element, ext, {
        values: ext.get("values").filter((value) => value.$type !== type) }));
    }
  }

  setSpiffProperty(element, name, value, node = element.businessObject) {
    const commands = [];
    const existing = findExtension(node, "spiffworkflow:Properties");
    if (!existing && !value) {
      return;
    }
    const props = this.extension(element, node, "spiffworkflow:Properties",
                                 { properties: [] }, commands);
    const list = props.get("properties");
    const prop = list.find((p) => p.name === name);
    if (!value) {
      if (prop) {
        commands.push(this.update(element, props, { properties: list.filter((p) => p !== prop) }));
      }
    } else if (prop) {
      commands.push(this.update(element, prop, { value }));
    } else {
      const created = this.create("spiffworkflow:Property", { name, value }, props);
      commands.push(this.update(element, props, { properties: [...list, created] }));
    }
    this.run(commands);
  }

  // A text-only SpiffWorkflow extension (calledDecisionId, messageVariable): set or remove.
  setBody(element, type, value, node = element.businessObject) {
    const commands = [];
    if (!value) {
      this.removeExtension(element, node, type, commands);
    } else {
      const found = this.extension(element, node, type, { value }, commands);
      if (found.value !== value) {
        commands.push(this.update(element, found, { value }));
      }
    }
    this.run(commands);
  }

  operator(element, node = element.businessObject) {
    const commands = [];
    const found = this.extension(element, node, "spiffworkflow:ServiceTaskOperator", {
      id: "", resultVariable: `${node.id}_result`,
    }, commands);
    let params = found.parameters;
    if (!params) {
      params = this.create("spiffworkflow:Parameters", { parameters: [] }, found);
      commands.push(this.update(element, found, { parameters: params }));
    }
    return { found, params, commands };
  }

  setOperator(element, properties) {
    const { found, commands } = this.operator(element);
    commands.push(this.update(element, found, properties));
    this.run(commands);
  }

  addParameter(element, id = "", type = "str", value = "") {
    const { params, commands } = this.operator(element);
    const created = this.create("spiffworkflow:Parameter", { id, type, value }, params);
    commands.push(this.update(element, params, {
      parameters: [...params.get("parameters"), created] }));
    this.run(commands);
  }

  removeParameter(element, param) {
    const params = param.$parent;
    this.run([this.update(element, params, {
      parameters: params.get("parameters").filter((p) => p !== param) })]);
  }

  setTimer(element, kind, text) {
    const def = eventDefinition(element.businessObject, "bpmn:TimerEventDefinition");
    const properties = { timeDate: undefined, timeDuration: undefined, timeCycle: undefined };
    if (text) {
      properties[kind] = this.create("bpmn:FormalExpression", { body: text }, def);
    }
    this.run([this.update(element, def, properties)]);
  }

  setCondition(element, text) {
    const node = element.businessObject;
    const condition = text ? this.create("bpmn:FormalExpression", { body: text }, node) : undefined;
    this.run([this.update(element, node, { conditionExpression: condition })]);
  }

  setDefaultFlow(gateway, flowNode) {
    this.modeling.updateProperties(gateway, { default: flowNode || undefined });
  }

  // Point ``holder`` (an event definition, a receive task) at the message named ``name``,
  // adding a <bpmn:message> to the definitions when none has that name.
  setMessage(element, holder, name) {
    const definitions = definitionsOf(this.modeler);
    const commands = [];
    if (!name) {
      this.run([this.update(element, holder, { messageRef: undefined })]);
      return;
    }
    let message = (definitions.get("rootElements") || [])
      .find((root) => isType(root, "bpmn:Message") && root.name === name);
    if (!message) {
      const ids = this.moddle.ids;
      const base = `Message_${name.replace(/[^\w.-]+/g, "_")}`;
      let id = base;
      for (let n = 2; ids.assigned(id); n += 1) {
        id = `${base}_${n}`;
      }
      message = this.create("bpmn:Message", { id, name }, definitions);
      ids.claim(id, message);
      commands.push(this.update(element, definitions, {
        rootElements: [...definitions.get("rootElements"), message] }));
    }
    commands.push(this.update(element, holder, { messageRef: message }));
    this.run(commands);
  }
}
