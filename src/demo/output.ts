/** Where the demo writes: its own lines and each node's, prefixed with the node's name (coloured in a terminal). */
export interface Output {
  demo(text: string): void;
  node(name: string, index: number, text: string): void;
}

const COLOURS = [36, 35, 33, 32, 34, 31];
/** Control characters other than tab: a peer's hypothesis must not drive the terminal. */
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;
const WIDTH = 7;

export function output(stream: NodeJS.WriteStream): Output {
  const tty = stream.isTTY === true;
  const paint = (code: number, text: string) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);
  const write = (prefix: string, text: string) => stream.write(`${prefix} │ ${text.replace(CONTROL, '?')}\n`);
  return {
    demo: (text) => write(paint(1, 'demo'.padEnd(WIDTH)), text),
    node: (name, index, text) => write(paint(COLOURS[index % COLOURS.length]!, name.padEnd(WIDTH)), text),
  };
}
