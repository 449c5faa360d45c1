// A diagram file fetched from the server, as text for bpmn-js or dmn-js.
//
// The server gives the file back byte for byte, in the encoding its prolog declares (MIWG
// files use ISO-8859-1, for instance); fetch's text() would read it as UTF-8. So the bytes
// are decoded as declared, and the declaration says UTF-8 from then on: the editors work on
// text and save UTF-8.
const DECLARATION = /^(\uFEFF?\s*<\?xml[^>]*?\sencoding\s*=\s*)(["'])([A-Za-z0-9._:-]+)\2/;

export async function readXml(response) {
  if (!response.ok) {
    throw new Error(`the server answered ${response.status}`);
  }
  const bytes = await response.arrayBuffer();
  const head = new TextDecoder("latin1").decode(bytes.slice(0, 300));
  const declared = DECLARATION.exec(head);
  let decoder;
  try {
    decoder = new TextDecoder(declared ? declared[3] : "utf-8");
  } catch {
    decoder = new TextDecoder("utf-8");  // an encoding the browser does not know
  }
  return decoder.decode(bytes).replace(DECLARATION, "$1$2UTF-8$2");
}
